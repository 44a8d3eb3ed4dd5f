// "Explain this step": what one stochastic-gradient step on one training point does, as the
// server's estimator computed it (POST /api/models/{id}/explain). The page lays it out.
import { el, fmt } from "./common.js";

const list = (values) => (Array.isArray(values) ? values.map((v) => fmt(v)).join(", ") : fmt(values));

// The training point's number typed in `text`, null when it is not a whole number.
export function typedPoint(text) {
  const index = Number(text);
  return text.trim() !== "" && Number.isInteger(index) ? index : null;
}

function row(name, ...cells) {
  return el("tr", {}, el("th", { scope: "row" }, name), cells.map((cell) => el("td", {}, cell)));
}

// The panel's contents for one explanation `e` of train point `index`, at `epoch`. The
// weights shown multiply `e.inputs` (the features, or for a network the last hidden
// layer's outputs h1, h2, ...).
export function explanation(e, index, epoch) {
  const named = (values) => Object.entries(values || {}).map(([name, value]) => `${name} = ${fmt(value)}`).join(", ");
  const inputs = Object.keys(e.inputs || e.x || {});
  const weights = (e.before?.weights || []).map((before, i) => row(`w (${inputs[i] ?? i + 1})`,
    fmt(before), fmt(e.gradient?.weights?.[i]), fmt(e.after?.weights?.[i])));
  const hidden = e.inputs && Object.keys(e.inputs).some((name) => !(name in (e.x || {})));
  return [
    el("p", { class: "explain-point" }, `Training point ${index} at epoch ${epoch}: ${named(e.x)}`),
    hidden ? el("p", { class: "explain-point" }, `last hidden layer: ${named(e.inputs)}`) : null,
    el("dl", { class: "explain-numbers" },
      el("dt", {}, "target"), el("dd", { id: "model-explain-target" },
        fmt(e.target), e.label !== null && e.label !== undefined ? ` (class ${e.label})` : ""),
      e.score !== undefined ? [el("dt", {}, "score w\u00b7x + b"), el("dd", {}, fmt(e.score))] : null,
      el("dt", {}, "prediction"), el("dd", { id: "model-explain-prediction" }, fmt(e.prediction)),
      el("dt", {}, "error"), el("dd", { id: "model-explain-error" }, fmt(e.error)),
      el("dt", {}, "loss"), el("dd", {}, fmt(e.loss)),
      el("dt", {}, "learning rate"), el("dd", {}, fmt(e.learning_rate))),
    el("div", { class: "table-scroll" }, el("table", { class: "explain-table" },
      el("caption", {}, "after = before \u2212 learning rate \u00d7 gradient"),
      el("thead", {}, el("tr", {}, el("th", {}, ""), el("th", { scope: "col" }, "before"),
        el("th", { scope: "col" }, "gradient"), el("th", { scope: "col" }, "after"))),
      el("tbody", {}, weights,
        row("bias b", list(e.before?.bias), list(e.gradient?.bias), list(e.after?.bias))))),
    el("p", { class: "explain-rule", id: "model-explain-rule" }, e.rule || ""),
  ];
}

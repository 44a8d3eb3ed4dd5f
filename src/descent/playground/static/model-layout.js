// The model lab's panels: the training toolbar, the settings, the output heatmap, the loss
// chart, the network, "explain this step" and the export. The lab (model-lab.js) fills them.
import { el, fmt } from "./common.js";
import { buildControls } from "./model-controls.js";
import { ExportPanel } from "./model-export.js";

export const PICK_HINT = "Pick a training point to see one gradient step on it.";

// What the heatmap's axes are: the data's two columns, in the file's own units for an upload
// (the server maps them onto its box).
export function axes(reply) {
  const [across, up] = reply.columns || ["x1", "x2"];
  const range = (i) => (reply.scale ? ` (${fmt(reply.scale[i][0])} to ${fmt(reply.scale[i][1])})` : "");
  return `across: ${across}${range(0)}; up: ${up}${range(1)}`;
}

// The lab's nodes, each named, with `panels` in page order. `act` holds the lab's actions:
// play, step, reset, edit(patch), sendFile(file), pick(event), explainTyped(), draw(),
// load(suffix) for the export.
export function layout(options, act) {
  const button = (id, text, onclick, extra = {}) =>
    el("button", { type: "button", class: "action", id, onclick, disabled: true, ...extra }, text);
  const n = {};
  n.playButton = button("model-play", "Play", act.play, { "aria-pressed": "false" });
  n.stepButton = button("model-step", "Step", act.step);
  n.resetButton = button("model-reset", "Reset", act.reset, { class: "action secondary" });
  n.epoch = el("output", { id: "model-epoch" }, "-");
  n.trainLoss = el("output", { id: "model-train-loss" }, "-");
  n.testLoss = el("output", { id: "model-test-loss" }, "-");
  n.status = el("p", { id: "model-status", class: "model-status", "aria-live": "polite" });
  const toolbar = el("section", { class: "panel model-toolbar", "aria-label": "Training" },
    el("div", { class: "model-buttons" }, n.playButton, n.stepButton, n.resetButton),
    el("dl", { class: "model-readout" },
      el("div", {}, el("dt", {}, "epoch"), el("dd", {}, n.epoch)),
      el("div", {}, el("dt", {}, "train loss"), el("dd", {}, n.trainLoss)),
      el("div", {}, el("dt", {}, "test loss"), el("dd", {}, n.testLoss))),
    n.status, el("div", { class: "error", "data-error-for": "general", role: "alert" }));

  n.controls = buildControls(options, act.edit, act.sendFile);

  n.heatmap = el("canvas", { id: "model-heatmap", role: "img",
    "aria-label": "the model's output over the data, with the training points (filled) and test points (outlined)" });
  n.heatmap.addEventListener("click", act.pick);
  n.legendBox = el("div", { class: "model-legend-box" });
  n.pointInput = el("input", { type: "number", id: "model-explain-point", name: "point", min: 0, step: 1 });
  n.pointInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); act.explainTyped(); }
  });
  n.explainButton = el("button", { type: "button", class: "action secondary", id: "model-explain",
    onclick: act.explainTyped }, "Explain this step");
  n.viewPanel = el("section", { class: "panel model-view", "aria-label": "Output" },
    el("h2", {}, "Output"), n.heatmap, n.legendBox,
    el("p", { class: "hint" }, "Click a training point (or type its number) to explain one step on it."),
    el("div", { class: "model-pick" },
      el("label", { for: "model-explain-point" }, "Training point"), n.pointInput, n.explainButton),
    el("div", { class: "error", "data-error-for": "point", role: "alert" }));

  n.lossChart = el("svg", { id: "model-loss-chart", role: "img", "aria-label": "train and test loss by epoch" });
  n.logScale = el("input", { type: "checkbox", id: "model-log-scale" });
  n.logScale.addEventListener("change", act.draw);
  const lossPanel = el("section", { class: "panel model-loss", "aria-label": "Loss" },
    el("h2", {}, "Loss"), n.lossChart,
    el("div", { class: "model-loss-keys" },
      el("span", { class: "key key-train" }, "train"), el("span", { class: "key key-test" }, "test"),
      el("label", { class: "check" }, n.logScale, " log scale")));

  n.network = el("svg", { id: "model-network", role: "img",
    "aria-label": "the network: edge width shows the size of a weight, its colour the sign" });
  const networkPanel = el("section", { class: "panel model-network-panel", "aria-label": "Network" },
    el("h2", {}, "Network"), n.network,
    el("p", { class: "hint" }, "Blue: positive weight, orange: negative; wider: larger."));

  n.explainBody = el("div", { id: "model-explain-body", "aria-live": "polite" }, el("p", { class: "hint" }, PICK_HINT));
  const explainPanel = el("section", { class: "panel model-explain", "aria-label": "Explain this step" },
    el("h2", {}, "Explain this step"), n.explainBody);

  n.export = new ExportPanel(act.load);
  n.panels = [toolbar, ...n.controls.panels, n.viewPanel, lossPanel, networkPanel, explainPanel, n.export.panel];
  return n;
}

// The learning-rate lab's settings: their defaults, the form that edits them, and how a
// saved setup (the URL) is read back. The form only edits `settings`; the lab is told of
// each change through `handlers` and asks the server for the rest.
import { el } from "./common.js";

export const DEFAULTS = {
  preset: "bowl", expression: "x^2", learning_rate: 0.1, start: "5", optimizer: "gd", beta: 0.9,
  steps: 500, tol: 1e-6, restarts: 1, random_state: 0, view: { x: [-6, 6], y: [-3, 3] },
  compare: { on: false, optimizer: "momentum", learning_rate: 0.1, beta: 0.9 },
};
const LOG_RATE = { min: -4, max: 1 }; // the slider spans 1e-4 .. 10
const OPTIMIZERS = [["gd", "Gradient descent"], ["momentum", "Momentum"], ["adam", "Adam"]];

// Numbers typed in a box: a number when it reads as one, else the text itself, so the
// server answers with its own message next to the field.
export function number(text) {
  const value = Number(String(text).trim());
  return String(text).trim() !== "" && Number.isFinite(value) ? value : String(text);
}

export function numbers(text) {
  const parts = String(text).split(/[\s,;]+/).filter(Boolean).map(Number);
  if (!parts.length || parts.some((v) => !Number.isFinite(v))) return String(text);
  return parts.length === 1 ? parts[0] : parts;
}

// The POST /api/descend body for `steps` steps of the main setting (or the compare one),
// on a function of `dims` variables: restarts search the view's box.
export function descendBody(s, steps, dims, compare = false) {
  const body = {
    expression: s.expression, start: numbers(s.start), steps, tol: s.tol,
    optimizer: compare ? s.compare.optimizer : s.optimizer,
    learning_rate: compare ? s.compare.learning_rate : s.learning_rate,
    beta: compare ? s.compare.beta : s.beta,
  };
  if (!compare && s.restarts !== 1) {
    Object.assign(body, { restarts: s.restarts, random_state: s.random_state,
      bounds: dims === 1 ? [s.view.x] : [s.view.x, s.view.y] });
  }
  return body;
}

function pairText(pair) {
  return Array.isArray(pair) ? pair.join(", ") : "";
}

function sameText(a, b) {
  return a.replace(/\s+/g, "") === b.replace(/\s+/g, "");
}

// A restored setup keeps only known keys with values of the right kind; the server checks the rest.
export function restore(saved) {
  const settings = structuredClone(DEFAULTS);
  if (!saved) return settings;
  for (const key of Object.keys(DEFAULTS)) {
    if (!(key in saved) || key === "view" || key === "compare") continue;
    if (typeof saved[key] === typeof DEFAULTS[key]) settings[key] = saved[key];
  }
  if (saved.view && typeof saved.view === "object") {
    for (const axis of ["x", "y"]) {
      const pair = saved.view[axis];
      if (Array.isArray(pair) && pair.length === 2 && pair.every(Number.isFinite)) settings.view[axis] = pair;
    }
  }
  if (saved.compare && typeof saved.compare === "object") {
    for (const key of Object.keys(DEFAULTS.compare)) {
      if (typeof saved.compare[key] === typeof DEFAULTS.compare[key]) settings.compare[key] = saved.compare[key];
    }
  }
  return settings;
}

function field(id, labelText, input, errorFor, hint) {
  return el("div", { class: "rate-field" },
    el("label", { for: id }, labelText),
    input,
    hint ? el("p", { class: "rate-hint", id: `${id}-hint` }, hint) : null,
    errorFor ? el("div", { class: "error", "data-error-for": errorFor, role: "alert" }) : null);
}

function options(pairs, selected) {
  return pairs.map(([value, text]) => el("option", { value, selected: value === selected }, text));
}

export class Controls {
  // handlers: {changed(surface: bool), choosePreset(name)}
  constructor(settings, handlers) {
    this.settings = settings;
    this.handlers = handlers;
    this.presets = [];
    this.dims = null;
    this.build();
    this.fill();
    this.listen();
  }

  build() {
    const s = this.settings;
    const input = (id, name, attrs = {}) => el("input", { id, name, ...attrs });
    this.inputs = {
      preset: el("select", { id: "rate-preset", name: "preset" }),
      expression: input("rate-expression", "expression", { type: "text", spellcheck: "false", autocomplete: "off",
        "aria-describedby": "rate-expression-hint" }),
      slider: input("rate-lr-slider", "learning_rate_log", { type: "range", min: LOG_RATE.min, max: LOG_RATE.max,
        step: "0.01", "aria-label": "Learning rate, log scale" }),
      rate: input("rate-lr", "learning_rate", { type: "number", min: "0", step: "any", inputmode: "decimal" }),
      start: input("rate-start", "start", { type: "text", inputmode: "decimal", autocomplete: "off",
        "aria-describedby": "rate-start-hint" }),
      optimizer: el("select", { id: "rate-optimizer", name: "optimizer" }, options(OPTIMIZERS, s.optimizer)),
      beta: input("rate-beta", "beta", { type: "number", min: "0", max: "0.999", step: "0.05" }),
      steps: input("rate-max-steps", "steps", { type: "number", min: "1", max: "10000", step: "1" }),
      tol: input("rate-tol", "tol", { type: "number", min: "0", step: "any" }),
      restarts: input("rate-restarts", "restarts", { type: "number", min: "1", max: "20", step: "1" }),
      seed: input("rate-seed", "random_state", { type: "number", min: "0", step: "1" }),
      viewX: input("rate-view-x", "x", { type: "text", autocomplete: "off" }),
      viewY: input("rate-view-y", "y", { type: "text", autocomplete: "off" }),
      compareOn: input("rate-compare", "compare", { type: "checkbox" }),
      compareOptimizer: el("select", { id: "rate-compare-optimizer", name: "optimizer" }, options(OPTIMIZERS, s.compare.optimizer)),
      compareRate: input("rate-compare-lr", "learning_rate", { type: "number", min: "0", step: "any" }),
      compareBeta: input("rate-compare-beta", "beta", { type: "number", min: "0", max: "0.999", step: "0.05" }),
    };
    const i = this.inputs;
    this.betaField = field("rate-beta", "Momentum beta", i.beta, "beta");
    this.viewYField = field("rate-view-y", "View y from, to", i.viewY, "y");
    this.compareBeta = field("rate-compare-beta", "Its beta", i.compareBeta, "beta");
    this.compareBox = el("fieldset", { class: "rate-compare", id: "rate-compare-box" },
      el("legend", {}, el("label", { class: "rate-check" }, i.compareOn, " Compare with a second setting")),
      el("div", { class: "rate-compare-fields", id: "rate-compare-fields" },
        field("rate-compare-optimizer", "Its optimizer", i.compareOptimizer, "optimizer"),
        field("rate-compare-lr", "Its learning rate", i.compareRate, "learning_rate"),
        this.compareBeta,
        el("div", { class: "error", "data-error-for": "general", role: "alert" })));

    this.form = el("form", { class: "panel rate-controls", id: "rate-controls", "aria-label": "Learning-rate lab settings" },
      el("h2", {}, "Function and settings"),
      el("div", { class: "error", "data-error-for": "general", role: "alert", id: "rate-error" }),
      field("rate-preset", "Function", i.preset, "preset"),
      field("rate-expression", "f =", i.expression, "expression", "Type your own in x, or in x and y: e.g. x^4 - 3*x^2 + x"),
      el("div", { class: "rate-field" },
        el("label", { for: "rate-lr" }, "Learning rate"),
        el("div", { class: "rate-rate" }, i.slider, i.rate),
        el("div", { class: "error", "data-error-for": "learning_rate", role: "alert" })),
      field("rate-start", "Start", i.start, "start", "A number, or x, y; or click the plot"),
      field("rate-optimizer", "Optimizer", i.optimizer, "optimizer"),
      this.betaField,
      field("rate-restarts", "Random restarts (1 = the start only)", i.restarts, "restarts",
        "More starts, drawn at random inside the view; the best run is marked"),
      el("details", { class: "rate-more" },
        el("summary", {}, "More: steps, tolerance, seed, view"),
        field("rate-max-steps", "Steps RUN may take", i.steps, "steps"),
        field("rate-tol", "Tolerance (stop when the slope or the step is smaller)", i.tol, "tol"),
        field("rate-seed", "Seed of the random starts", i.seed, "random_state"),
        el("div", { class: "error", "data-error-for": "bounds", role: "alert" }),
        field("rate-view-x", "View x from, to", i.viewX, "x"),
        this.viewYField),
      this.compareBox);
    this.form.addEventListener("submit", (event) => event.preventDefault());
  }

  setPresets(presets) {
    this.presets = presets;
    this.inputs.preset.replaceChildren(
      ...options(presets.map((p) => [p.name, p.label]), this.settings.preset),
      el("option", { value: "custom" }, "Your own (type it below)"));
    this.inputs.preset.value = this.settings.preset;
  }

  // The inputs show the settings.
  fill() {
    const s = this.settings;
    const i = this.inputs;
    i.expression.value = s.expression;
    i.rate.value = String(s.learning_rate);
    this.syncSlider();
    i.start.value = String(s.start);
    i.optimizer.value = s.optimizer;
    i.beta.value = String(s.beta);
    i.steps.value = String(s.steps);
    i.tol.value = String(s.tol);
    i.restarts.value = String(s.restarts);
    i.seed.value = String(s.random_state);
    i.viewX.value = pairText(s.view.x);
    i.viewY.value = pairText(s.view.y);
    i.compareOn.checked = s.compare.on;
    i.compareOptimizer.value = s.compare.optimizer;
    i.compareRate.value = String(s.compare.learning_rate);
    i.compareBeta.value = String(s.compare.beta);
    this.showFields();
  }

  // Only the fields that apply: beta for momentum, y for a function of x and y (`dims`,
  // known once the server has read the function).
  showFields(dims = this.dims) {
    this.dims = dims;
    const s = this.settings;
    this.betaField.hidden = s.optimizer !== "momentum";
    this.compareBeta.hidden = s.compare.optimizer !== "momentum";
    this.compareBox.querySelector(".rate-compare-fields").hidden = !s.compare.on;
    this.viewYField.hidden = dims === 1;
  }

  syncSlider() {
    const rate = Number(this.inputs.rate.value);
    if (Number.isFinite(rate) && rate > 0) {
      this.inputs.slider.value = String(Math.min(LOG_RATE.max, Math.max(LOG_RATE.min, Math.log10(rate))));
    }
  }

  listen() {
    const i = this.inputs;
    const s = this.settings;
    const on = (node, event, handler) => node.addEventListener(event, handler);
    on(i.preset, "change", () => this.handlers.choosePreset(i.preset.value));
    on(i.expression, "change", () => {
      s.expression = i.expression.value;
      const preset = this.presets.find((p) => sameText(p.expression, s.expression));
      s.preset = preset ? preset.name : "custom";
      i.preset.value = s.preset;
      this.handlers.changed(true);
    });
    on(i.slider, "input", () => { i.rate.value = String(Number((10 ** Number(i.slider.value)).toPrecision(3))); });
    on(i.slider, "change", () => { s.learning_rate = number(i.rate.value); this.handlers.changed(); });
    on(i.rate, "change", () => { s.learning_rate = number(i.rate.value); this.syncSlider(); this.handlers.changed(); });
    on(i.start, "change", () => { s.start = i.start.value; this.handlers.changed(); });
    on(i.optimizer, "change", () => { s.optimizer = i.optimizer.value; this.handlers.changed(); });
    on(i.beta, "change", () => { s.beta = number(i.beta.value); this.handlers.changed(); });
    on(i.steps, "change", () => { s.steps = number(i.steps.value); this.handlers.changed(); });
    on(i.tol, "change", () => { s.tol = number(i.tol.value); this.handlers.changed(); });
    on(i.restarts, "change", () => { s.restarts = number(i.restarts.value); this.handlers.changed(); });
    on(i.seed, "change", () => { s.random_state = number(i.seed.value); this.handlers.changed(); });
    on(i.viewX, "change", () => { s.view.x = numbers(i.viewX.value); this.handlers.changed(true); });
    on(i.viewY, "change", () => { s.view.y = numbers(i.viewY.value); this.handlers.changed(true); });
    on(i.compareOn, "change", () => { s.compare.on = i.compareOn.checked; this.handlers.changed(); });
    on(i.compareOptimizer, "change", () => { s.compare.optimizer = i.compareOptimizer.value; this.handlers.changed(); });
    on(i.compareRate, "change", () => { s.compare.learning_rate = number(i.compareRate.value); this.handlers.changed(); });
    on(i.compareBeta, "change", () => { s.compare.beta = number(i.compareBeta.value); this.handlers.changed(); });
  }
}

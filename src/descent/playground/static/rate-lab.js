// The learning-rate lab: pick a function, a learning rate and a start, then STEP through
// gradient descent or RUN it. Every path, value and slope comes from the server
// (POST /api/descend runs descent.minimize; /api/surface evaluates the function); this file
// keeps the settings (also in the URL), sequences the requests and plays the runs back.
import { api, clearErrors, el, fmt, readState, showError, writeState } from "./common.js";
import { Plot } from "./rate-plot.js";

const DEFAULTS = {
  preset: "bowl", expression: "x^2", learning_rate: 0.1, start: "5", optimizer: "gd", beta: 0.9,
  steps: 500, tol: 1e-6, restarts: 1, random_state: 0, view: { x: [-6, 6], y: [-3, 3] },
  compare: { on: false, optimizer: "momentum", learning_rate: 0.1, beta: 0.9 },
};
const LOG_RATE = { min: -4, max: 1 }; // the slider spans 1e-4 .. 10
const SURFACE_SIZE = 120;
const FRAME_MS = 40;
const PLAY_FRAMES = 150; // a whole run plays back in about 6 s at most
const OPTIMIZERS = [["gd", "Gradient descent"], ["momentum", "Momentum"], ["adam", "Adam"]];
const TERMINAL = new Set(["converged", "diverged", "skipped"]); // runs that take no more steps
const LABELS = { converged: "Converged", diverged: "Diverging", bouncing: "Bouncing", running: "Running" };

export function mount(root) {
  return new RateLab(root);
}

// Numbers typed in a box: a number when it reads as one, else the text itself, so the
// server answers with its own message next to the field.
function number(text) {
  const value = Number(String(text).trim());
  return String(text).trim() !== "" && Number.isFinite(value) ? value : String(text);
}

function numbers(text) {
  const parts = String(text).split(/[\s,;]+/).filter(Boolean).map(Number);
  if (!parts.length || parts.some((v) => !Number.isFinite(v))) return String(text);
  return parts.length === 1 ? parts[0] : parts;
}

function pairText(pair) {
  return Array.isArray(pair) ? pair.join(", ") : "";
}

function sameText(a, b) {
  return a.replace(/\s+/g, "") === b.replace(/\s+/g, "");
}

// A restored setup keeps only known keys with values of the right kind; the server checks the rest.
function restore(saved) {
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

class RateLab {
  constructor(root) {
    this.root = root;
    this.settings = restore(readState("rate"));
    this.presets = [];
    this.surface = null;
    this.main = null; // the latest /api/descend reply for the main setting
    this.compare = null; // ... and for the compare setting
    this.index = 0; // the step shown
    this.timer = null;
    this.queue = Promise.resolve();
    this.build();
    this.plot = new Plot(this.canvas);
    window.addEventListener("resize", () => this.redrawSoon());
    window.addEventListener("lab-shown", (event) => event.detail === "rate" ? this.redrawSoon() : this.pause());
    this.enqueue(() => this.load());
  }

  // ----- the page -------------------------------------------------------------------------
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

    this.controls = el("form", { class: "panel rate-controls", id: "rate-controls", "aria-label": "Learning-rate lab settings" },
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
    this.controls.addEventListener("submit", (event) => event.preventDefault());

    const button = (id, text, onclick, extra = "") => el("button", { id, type: "button", class: `action ${extra}`, onclick }, text);
    this.buttons = {
      step: button("rate-step", "STEP", () => this.enqueue(() => this.step())),
      run: button("rate-run", "RUN", () => this.toggleRun()),
      reset: button("rate-reset", "RESET", () => this.enqueue(() => this.reset()), "secondary"),
    };
    this.out = {
      steps: el("output", { id: "rate-steps" }, "0"),
      value: el("output", { id: "rate-value" }, "-"),
      slope: el("output", { id: "rate-slope" }, "-"),
      status: el("p", { id: "rate-status", class: "status running", "data-status": "running", role: "status", "aria-live": "polite" }, ""),
      feedback: el("p", { id: "rate-feedback", class: "rate-feedback" }),
      message: el("p", { id: "rate-message", class: "rate-message" }),
      compare: el("p", { id: "rate-compare-readout", class: "rate-message", hidden: true }),
    };
    this.canvas = el("canvas", { id: "rate-plot", role: "img", "aria-label": "The function and the descent's path" });
    this.canvas.addEventListener("click", (event) => this.clickPlot(event));
    this.plotBox = el("div", { class: "rate-canvas" }, this.canvas);
    this.legend = el("p", { class: "rate-legend", id: "rate-legend" });
    const o = this.out;
    const view = el("section", { class: "panel rate-view", "aria-label": "Descent" },
      el("div", { class: "rate-buttons" }, this.buttons.step, this.buttons.run, this.buttons.reset),
      el("p", { class: "rate-readout" },
        el("span", {}, "Step ", o.steps), el("span", {}, "f = ", o.value), el("span", {}, "slope ", o.slope)),
      o.status, o.feedback, o.message, o.compare, this.plotBox, this.legend);
    this.root.append(el("div", { class: "rate-grid" }, this.controls, view));
    this.fill();
    this.listen();
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

  showFields() {
    const s = this.settings;
    this.betaField.hidden = s.optimizer !== "momentum";
    this.compareBeta.hidden = s.compare.optimizer !== "momentum";
    this.compareBox.querySelector(".rate-compare-fields").hidden = !s.compare.on;
    this.viewYField.hidden = Boolean(this.surface) && this.surface.variables.length === 1;
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
    on(i.preset, "change", () => this.choosePreset(i.preset.value));
    on(i.expression, "change", () => {
      s.expression = i.expression.value;
      const preset = this.presets.find((p) => sameText(p.expression, s.expression));
      s.preset = preset ? preset.name : "custom";
      i.preset.value = s.preset;
      this.changed(true);
    });
    on(i.slider, "input", () => { i.rate.value = String(Number((10 ** Number(i.slider.value)).toPrecision(3))); });
    on(i.slider, "change", () => { s.learning_rate = number(i.rate.value); this.changed(); });
    on(i.rate, "change", () => { s.learning_rate = number(i.rate.value); this.syncSlider(); this.changed(); });
    on(i.start, "change", () => { s.start = i.start.value; this.changed(); });
    on(i.optimizer, "change", () => { s.optimizer = i.optimizer.value; this.changed(); });
    on(i.beta, "change", () => { s.beta = number(i.beta.value); this.changed(); });
    on(i.steps, "change", () => { s.steps = number(i.steps.value); this.changed(); });
    on(i.tol, "change", () => { s.tol = number(i.tol.value); this.changed(); });
    on(i.restarts, "change", () => { s.restarts = number(i.restarts.value); this.changed(); });
    on(i.seed, "change", () => { s.random_state = number(i.seed.value); this.changed(); });
    on(i.viewX, "change", () => { s.view.x = numbers(i.viewX.value); this.changed(true); });
    on(i.viewY, "change", () => { s.view.y = numbers(i.viewY.value); this.changed(true); });
    on(i.compareOn, "change", () => { s.compare.on = i.compareOn.checked; this.changed(); });
    on(i.compareOptimizer, "change", () => { s.compare.optimizer = i.compareOptimizer.value; this.changed(); });
    on(i.compareRate, "change", () => { s.compare.learning_rate = number(i.compareRate.value); this.changed(); });
    on(i.compareBeta, "change", () => { s.compare.beta = number(i.compareBeta.value); this.changed(); });
  }

  // A setting changed: keep it in the URL and start over (with a new surface when the
  // function or the view changed).
  changed(surface = false) {
    this.save();
    this.showFields();
    this.enqueue(async () => {
      if (surface) await this.loadSurface();
      await this.reset();
    });
  }

  save() {
    writeState("rate", this.settings);
  }

  choosePreset(name) {
    const preset = this.presets.find((p) => p.name === name);
    this.settings.preset = name;
    if (preset) {
      Object.assign(this.settings, {
        expression: preset.expression, learning_rate: preset.learning_rate,
        start: Array.isArray(preset.start) ? preset.start.join(", ") : String(preset.start),
        view: { x: preset.view.x, y: preset.view.y || this.settings.view.y },
      });
      this.fill();
    }
    this.changed(true);
  }

  // ----- the requests ---------------------------------------------------------------------
  // One request at a time, in the order asked: each STEP starts from the step before it.
  // The lab's root says data-busy="true" while requests are waiting or running.
  enqueue(task) {
    this.pending = (this.pending || 0) + 1;
    this.root.dataset.busy = "true";
    this.queue = this.queue.then(task).catch((err) => this.fail(err)).finally(() => {
      this.pending -= 1;
      if (this.pending === 0) this.root.dataset.busy = "false";
    });
    return this.queue;
  }

  fail(err, where = this.controls) {
    if (err && err.name === "AbortError") return;
    showError(where, err);
    // A message inside the folded "More" section unfolds it, so it is seen.
    for (const node of where.querySelectorAll("details [data-error-for]")) {
      if (node.textContent) node.closest("details").open = true;
    }
  }

  async load() {
    try {
      this.presets = (await api("/api/presets")).presets;
    } catch (err) {
      this.fail(err);
    }
    this.inputs.preset.replaceChildren(
      ...options(this.presets.map((p) => [p.name, p.label]), this.settings.preset),
      el("option", { value: "custom", selected: this.settings.preset === "custom" }, "Your own (type it below)"));
    if (!readState("rate") && this.presets.length) {
      this.choosePreset(this.presets[0].name);
      return;
    }
    this.inputs.preset.value = this.settings.preset;
    this.save();
    await this.loadSurface();
    await this.reset();
  }

  async loadSurface() {
    const s = this.settings;
    this.surface = await api("/api/surface", { expression: s.expression, x: s.view.x, y: s.view.y, size: SURFACE_SIZE });
    const dims = this.surface.variables.length;
    const start = numbers(s.start);
    const count = Array.isArray(start) ? start.length : 1;
    if (typeof start !== "string" && count !== dims) {
      // The function changed between 1-D and 2-D: start off-centre in the view (the
      // middle is often the minimum, where there is nothing to descend).
      const near = (pair) => Number((pair[0] + 0.8 * (pair[1] - pair[0])).toPrecision(4));
      s.start = dims === 1 ? String(near(s.view.x)) : `${near(s.view.x)}, ${near(s.view.y)}`;
      this.inputs.start.value = s.start;
      this.save();
    }
    this.showFields();
  }

  body(steps, compare = false) {
    const s = this.settings;
    const body = {
      expression: s.expression, start: numbers(s.start), steps, tol: s.tol,
      optimizer: compare ? s.compare.optimizer : s.optimizer,
      learning_rate: compare ? s.compare.learning_rate : s.learning_rate,
      beta: compare ? s.compare.beta : s.beta,
    };
    if (!compare && s.restarts !== 1) {
      const dims = this.surface ? this.surface.variables.length : 1;
      Object.assign(body, { restarts: s.restarts, random_state: s.random_state,
        bounds: dims === 1 ? [s.view.x] : [s.view.x, s.view.y] });
    }
    return body;
  }

  // Ask for `steps` steps of the main setting and of the compare one (when on).
  async descend(steps) {
    clearErrors(this.controls);
    let main;
    try {
      main = await api("/api/descend", this.body(steps));
    } catch (err) {
      this.main = null;
      this.compare = null;
      this.render();
      throw err;
    }
    let compare = null;
    if (this.settings.compare.on) {
      try {
        compare = await api("/api/descend", this.body(steps, true));
      } catch (err) {
        this.fail(err, this.compareBox);
      }
    }
    this.main = main;
    this.compare = compare;
  }

  // Every path on the plot: the main one, the compare one, and each restart's.
  replies() {
    return [this.main, this.compare, ...(this.main ? this.main.runs : [])].filter(Boolean);
  }

  lastStep() {
    return Math.max(0, ...this.replies().map((reply) => reply.steps));
  }

  async reset() {
    this.pause();
    this.index = 0;
    await this.descend(0);
    this.render();
  }

  async step() {
    this.pause();
    if (!this.main || this.finished()) return;
    await this.descend(this.index + 1);
    this.index = this.lastStep();
    this.render();
  }

  // RUN fetches the whole run (the steps RUN may take) and plays it from the step shown;
  // pressed while playing, it pauses.
  toggleRun() {
    if (this.timer !== null) {
      this.pause();
      this.render();
      return;
    }
    this.enqueue(async () => {
      if (!this.main || this.finished()) return;
      await this.descend(number(this.settings.steps));
      const last = this.lastStep();
      const stride = Math.max(1, Math.ceil((last - this.index) / PLAY_FRAMES));
      this.timer = window.setInterval(() => {
        this.index = Math.min(last, this.index + stride);
        if (this.index >= last) this.pause();
        this.render();
      }, FRAME_MS);
      this.render();
    });
  }

  pause() {
    if (this.timer !== null) window.clearInterval(this.timer);
    this.timer = null;
  }

  // The status of `reply` at the step shown: its own once the step shown is its last.
  statusOf(reply) {
    if (!reply) return null;
    return this.index >= reply.steps ? reply.status : "running";
  }

  finished() {
    return !this.main || this.replies().every((reply) => TERMINAL.has(this.statusOf(reply)));
  }

  clickPlot(event) {
    const frame = this.plot.frame;
    if (!frame || !this.surface) return;
    const box = this.canvas.getBoundingClientRect();
    const at = frame.data(event.clientX - box.left, event.clientY - box.top);
    if (!at) return;
    const round = (v) => Number(v.toPrecision(4));
    this.settings.start = this.surface.variables.length === 1 ? String(round(at[0])) : `${round(at[0])}, ${round(at[1])}`;
    this.inputs.start.value = this.settings.start;
    this.changed();
  }

  // ----- what the learner sees ------------------------------------------------------------
  redrawSoon() {
    if (this.frameRequest) return;
    this.frameRequest = window.requestAnimationFrame(() => {
      this.frameRequest = null;
      this.render();
    });
  }

  render() {
    const { main, compare, out } = this;
    const playing = this.timer !== null;
    this.buttons.run.textContent = playing ? "PAUSE" : "RUN";
    this.buttons.run.setAttribute("aria-pressed", String(playing));
    const finished = this.finished();
    this.buttons.step.disabled = finished || !main;
    this.buttons.run.disabled = !playing && (finished || !main);
    out.steps.textContent = String(this.index);
    if (!main) {
      out.value.textContent = "-";
      out.slope.textContent = "-";
      this.setStatus(null, "", "");
    } else {
      const at = Math.min(this.index, main.points.length - 1);
      const point = main.points[at];
      const gradient = main.gradients[at];
      out.value.textContent = fmt(point[point.length - 1]);
      out.slope.textContent = gradient.length === 1 ? fmt(gradient[0]) : `(${gradient.map((g) => fmt(g)).join(", ")})`;
      const status = this.statusOf(main);
      // The server's sentence once the step shown is the run's last (at step 0 the words say it).
      const said = this.index >= main.steps && (main.steps > 0 || status === "converged");
      this.setStatus(status, this.words(status, main), said ? main.message : "");
    }
    out.compare.hidden = !compare;
    if (compare) {
      const status = this.statusOf(compare);
      const s = this.settings.compare;
      const said = this.index >= compare.steps && (compare.steps > 0 || status === "converged");
      out.compare.textContent = `Compare (${s.optimizer}, rate ${s.learning_rate}): ${LABELS[status] || status}`
        + (said ? `; ${compare.message}` : "");
    }
    this.legend.replaceChildren(...this.legendItems());
    this.plot.draw({ surface: this.surface, main, compare, runs: main ? main.runs : [], best: main ? main.best : 0,
      index: this.index }, Math.floor(this.plotBox.clientWidth));
  }

  setStatus(status, feedback, message) {
    const out = this.out;
    out.status.textContent = status ? LABELS[status] || status : "";
    out.status.dataset.status = status || "none";
    out.status.className = `status ${status || ""}`;
    out.feedback.textContent = feedback;
    out.message.textContent = message;
  }

  words(status, main) {
    const n = this.index;
    const steps = `${main.steps} step${main.steps === 1 ? "" : "s"}`;
    if (status === "converged") {
      return `Reached the minimum (|slope| or the step < tol) in ${steps} \u2014 try a rate that does it in fewer.`;
    }
    if (status === "diverged") return "Diverging: every step overshoots further and the value grows. Try a smaller learning rate.";
    if (status === "bouncing") return "Bouncing: the steps jump across the valley and back without settling. Try a smaller learning rate.";
    if (this.timer !== null) return "Playing the run\u2026";
    if (n === 0) return "At the start: press STEP to take one step, or RUN to play the whole run.";
    if (n >= main.steps && n === Number(this.settings.steps)) {
      return `Stopped after ${steps} without reaching the minimum: allow more steps, or try a larger rate.`;
    }
    return `Step ${n}: still on the way down.`;
  }

  legendItems() {
    const s = this.settings;
    const item = (colour, text) => el("span", { class: "rate-key" }, el("span", { class: `rate-swatch ${colour}` }), text);
    const items = [item("main", `${s.optimizer}, rate ${s.learning_rate}`)];
    if (s.compare.on) items.push(item("compare", `${s.compare.optimizer}, rate ${s.compare.learning_rate}`));
    if (this.main && this.main.runs.length) items.push(item("restart", "other restarts"), item("best", "best run"));
    if (this.surface && this.surface.variables.length === 1) items.push(item("tangent", "tangent at the point (its slope)"));
    else if (this.surface) items.push(item("downhill", "arrow: downhill, against the gradient"));
    return items;
  }
}


// The learning-rate lab: pick a function, a learning rate and a start, then STEP through
// gradient descent or RUN it. Every path, value and slope comes from the server
// (POST /api/descend runs descent.minimize; /api/surface evaluates the function); this file
// sequences the requests, plays the runs back and says what happened. The settings form is
// rate-controls.js, the drawing rate-plot.js.
import { api, clearErrors, el, fmt, readState, showError, writeState } from "./common.js";
import { Controls, number, numbers, restore } from "./rate-controls.js";
import { Plot } from "./rate-plot.js";

const SURFACE_SIZE = 120;
const FRAME_MS = 40;
const PLAY_FRAMES = 150; // a whole run plays back in about 6 s at most
const TERMINAL = new Set(["converged", "diverged", "skipped"]); // runs that take no more steps
const LABELS = { converged: "Converged", diverged: "Diverging", bouncing: "Bouncing", running: "Running" };

export function mount(root) {
  return new RateLab(root);
}

class RateLab {
  constructor(root) {
    this.root = root;
    this.settings = restore(readState("rate"));
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
    this.controls = new Controls(this.settings, {
      changed: (surface) => this.changed(surface), choosePreset: (name) => this.choosePreset(name) });
    this.form = this.controls.form;
    this.inputs = this.controls.inputs;
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
    this.root.append(el("div", { class: "rate-grid" }, this.form, view));
  }

  // A setting changed: keep it in the URL and start over (with a new surface when the
  // function or the view changed).
  changed(surface = false) {
    this.save();
    this.controls.showFields();
    this.enqueue(async () => {
      if (surface) await this.loadSurface();
      await this.reset();
    });
  }

  save() {
    writeState("rate", this.settings);
  }

  choosePreset(name) {
    const preset = this.controls.presets.find((p) => p.name === name);
    this.settings.preset = name;
    if (preset) {
      Object.assign(this.settings, {
        expression: preset.expression, learning_rate: preset.learning_rate,
        start: Array.isArray(preset.start) ? preset.start.join(", ") : String(preset.start),
        view: { x: preset.view.x, y: preset.view.y || this.settings.view.y },
      });
      this.controls.fill();
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

  fail(err, where = this.form) {
    if (err && err.name === "AbortError") return;
    showError(where, err);
    // A message inside the folded "More" section unfolds it, so it is seen.
    for (const node of where.querySelectorAll("details [data-error-for]")) {
      if (node.textContent) node.closest("details").open = true;
    }
  }

  async load() {
    let presets = [];
    try {
      presets = (await api("/api/presets")).presets;
    } catch (err) {
      this.fail(err);
    }
    this.controls.setPresets(presets);
    if (!readState("rate") && presets.length) {
      this.choosePreset(presets[0].name);
      return;
    }
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
    this.controls.showFields(dims);
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
    clearErrors(this.form);
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
        this.fail(err, this.controls.compareBox);
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
      // (a second press queued behind the first must not start a second playback)
      if (!this.main || this.finished() || this.timer !== null) return;
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


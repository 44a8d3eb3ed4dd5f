// The learning-rate lab: pick a function, a learning rate and a start, then STEP through
// gradient descent or RUN it. Every path, value and slope comes from the server
// (POST /api/descend runs descent.minimize; /api/surface evaluates the function); this file
// sequences the requests and plays the runs back. The settings form is rate-controls.js,
// what the learner sees rate-view.js.
import { api, clearErrors, el, readState, showError, writeState } from "./common.js";
import { Controls, descendBody, number, numbers, restore } from "./rate-controls.js";
import { RateView } from "./rate-view.js";

const SURFACE_SIZE = 120;
const FRAME_MS = 40;
const PLAY_FRAMES = 150; // a whole run plays back in about 6 s at most
const TERMINAL = new Set(["converged", "diverged", "skipped"]); // runs that take no more steps

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
    this.runAsked = false; // RUN pressed, its run not fetched yet
    this.queue = Promise.resolve();
    // Bumped by every change of setting: a STEP or RUN pressed before it is not taken on the new setup.
    this.generation = 0;
    this.build();
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
    this.view = new RateView({
      step: () => this.enqueue(() => this.step(), this.generation), run: () => this.toggleRun(),
      reset: () => this.enqueue(() => this.reset()), pick: (at) => this.pick(at),
    });
    this.root.append(el("div", { class: "rate-grid" }, this.form, this.view.section));
  }

  // A setting changed: keep it in the URL and start over (with a new surface when the
  // function or the view changed).
  changed(surface = false) {
    this.save();
    this.controls.showFields();
    this.generation += 1;
    this.halt(); // the old run stops now, not when the new setup has loaded
    this.render();
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
  // A task of `generation` is skipped once the setup changed. The lab's root says
  // data-busy="true" while requests are waiting or running.
  enqueue(task, generation = null) {
    this.pending = (this.pending || 0) + 1;
    this.root.dataset.busy = "true";
    const current = () => generation === null || generation === this.generation;
    this.queue = this.queue.then(() => (current() ? task() : null)).catch((err) => this.fail(err)).finally(() => {
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
    return descendBody(this.settings, steps, this.surface ? this.surface.variables.length : 1, compare);
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
  // pressed while playing, it pauses; pressed again before the run came, that run is not played.
  toggleRun() {
    if (this.timer !== null || this.runAsked) {
      this.halt();
      this.render();
      return;
    }
    this.runAsked = true;
    this.enqueue(async () => {
      if (!this.runAsked || !this.main || this.finished()) { this.runAsked = false; return; }
      try {
        await this.descend(number(this.settings.steps));
      } catch (err) {
        this.runAsked = false;
        throw err;
      }
      if (!this.runAsked) return; // (pressed again while the run was on its way)
      this.runAsked = false;
      const last = this.lastStep();
      const stride = Math.max(1, Math.ceil((last - this.index) / PLAY_FRAMES));
      this.timer = window.setInterval(() => {
        this.index = Math.min(last, this.index + stride);
        if (this.index >= last) this.pause();
        this.render();
      }, FRAME_MS);
      this.render();
    }, this.generation);
  }

  pause() {
    if (this.timer !== null) window.clearInterval(this.timer);
    this.timer = null;
  }

  // Pause, and a RUN pressed but not yet playing will not play.
  halt() {
    this.runAsked = false;
    this.pause();
  }

  // The status of `reply` at the step shown: its own once the step shown is its last.
  statusOf(reply) {
    if (!reply) return null;
    return this.index >= reply.steps ? reply.status : "running";
  }

  finished() {
    return !this.main || this.replies().every((reply) => TERMINAL.has(this.statusOf(reply)));
  }

  // The plot was clicked at `at` (data x, y): start there.
  pick(at) {
    if (!this.surface) return;
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
    this.view.render({ settings: this.settings, surface: this.surface, main: this.main, compare: this.compare,
      index: this.index, playing: this.timer !== null, finished: this.finished(),
      statusOf: (reply) => this.statusOf(reply) });
  }
}

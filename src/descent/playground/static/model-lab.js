// The model lab: pick data, a model and its training settings, then watch descent train it.
// Every number comes from the server (a model session per setup); this file keeps the one
// settings object (also in the URL), runs Play / Step / Reset and hands snapshots to the
// drawing code. The lab starts the first time its tab is shown.
import { api, clearErrors, el, fmt, readState, showError, writeState } from "./common.js";
import { colourScale, drawHeatmap, drawLossChart, drawNetwork, legend, nearestPoint } from "./model-charts.js";
import { buildControls } from "./model-controls.js";
import { explanation } from "./model-explain.js";
import { ExportPanel } from "./model-export.js";
import { fits, requestBody, restore } from "./model-settings.js";

const HEATMAP_MOST = 440; // CSS pixels
const SETTLE_MS = 200; // settings changes this close together make one new session
const CHUNK = 500; // epochs per stream while playing
const PACE = 0.03; // seconds between streamed epochs, so Play can be watched

export function mount(root) {
  let lab = null;
  let starting = false;
  window.addEventListener("lab-shown", async (event) => {
    if (event.detail !== "model") return lab?.pause();
    if (lab) return lab.draw(); // sized for the panel as it is now
    if (starting) return;
    starting = true;
    lab = await start(root); // null when the server did not answer: the next showing tries again
    starting = false;
  });
  window.addEventListener("pagehide", () => lab?.close());
}

async function start(root) {
  root.replaceChildren(el("p", { class: "panel", id: "model-loading" }, "Loading the model lab\u2026"),
    el("div", { class: "error", "data-error-for": "general", role: "alert" }));
  let options;
  try {
    options = await api("/api/options");
  } catch (err) {
    showError(root, err);
    return null;
  }
  root.replaceChildren();
  return new Lab(root, options);
}

// What the heatmap's axes are: the data's two columns, in the file's own units for an upload
// (the server maps them onto its box).
function axes(reply) {
  const [across, up] = reply.columns || ["x1", "x2"];
  const range = (i) => (reply.scale ? ` (${fmt(reply.scale[i][0])} to ${fmt(reply.scale[i][1])})` : "");
  return `across: ${across}${range(0)}; up: ${up}${range(1)}`;
}

function parse(text) {
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    return {};
  }
}

class Lab {
  constructor(root, options) {
    this.root = root;
    this.options = options;
    this.settings = restore(readState("model"), options);
    this.session = null; // the reply of POST /api/models
    this.snapshot = null;
    this.history = [];
    this.playing = false;
    this.source = null;
    this.selected = null;
    this.generation = 0;
    this.upload = { task: null, note: "" };
    this.build();
    this.fixModel();
    this.changed();
    window.addEventListener("resize", () => this.draw());
  }

  // ---- the page -------------------------------------------------------------------
  build() {
    const button = (id, text, onclick, extra = {}) =>
      el("button", { type: "button", class: "action", id, onclick, disabled: true, ...extra }, text);
    this.playButton = button("model-play", "Play", () => (this.playing ? this.pause() : this.play()),
      { "aria-pressed": "false" });
    this.stepButton = button("model-step", "Step", () => this.step());
    this.resetButton = button("model-reset", "Reset", () => this.reset(), { class: "action secondary" });
    this.epoch = el("output", { id: "model-epoch" }, "-");
    this.trainLoss = el("output", { id: "model-train-loss" }, "-");
    this.testLoss = el("output", { id: "model-test-loss" }, "-");
    this.status = el("p", { id: "model-status", class: "model-status", "aria-live": "polite" });
    const toolbar = el("section", { class: "panel model-toolbar", "aria-label": "Training" },
      el("div", { class: "model-buttons" }, this.playButton, this.stepButton, this.resetButton),
      el("dl", { class: "model-readout" },
        el("div", {}, el("dt", {}, "epoch"), el("dd", {}, this.epoch)),
        el("div", {}, el("dt", {}, "train loss"), el("dd", {}, this.trainLoss)),
        el("div", {}, el("dt", {}, "test loss"), el("dd", {}, this.testLoss))),
      this.status, el("div", { class: "error", "data-error-for": "general", role: "alert" }));

    this.controls = buildControls(this.options, (patch) => this.edit(patch), (file) => this.sendFile(file));

    this.heatmap = el("canvas", { id: "model-heatmap", role: "img",
      "aria-label": "the model's output over the data, with the training points (filled) and test points (outlined)" });
    this.heatmap.addEventListener("click", (event) => this.pick(event));
    this.legendBox = el("div", { class: "model-legend-box" });
    this.pointInput = el("input", { type: "number", id: "model-explain-point", name: "point", min: 0, step: 1 });
    this.pointInput.addEventListener("keydown", (event) => {
      if (event.key === "Enter") { event.preventDefault(); this.explainTyped(); }
    });
    this.viewPanel = el("section", { class: "panel model-view", "aria-label": "Output" },
      el("h2", {}, "Output"), this.heatmap, this.legendBox,
      el("p", { class: "hint" }, "Click a training point (or type its number) to explain one step on it."),
      el("div", { class: "model-pick" },
        el("label", { for: "model-explain-point" }, "Training point"), this.pointInput,
        el("button", { type: "button", class: "action secondary", id: "model-explain",
          onclick: () => this.explainTyped() }, "Explain this step")),
      el("div", { class: "error", "data-error-for": "point", role: "alert" }));

    this.lossChart = el("svg", { id: "model-loss-chart", role: "img", "aria-label": "train and test loss by epoch" });
    this.logScale = el("input", { type: "checkbox", id: "model-log-scale" });
    this.logScale.addEventListener("change", () => this.draw());
    const lossPanel = el("section", { class: "panel model-loss", "aria-label": "Loss" },
      el("h2", {}, "Loss"), this.lossChart,
      el("div", { class: "model-loss-keys" },
        el("span", { class: "key key-train" }, "train"), el("span", { class: "key key-test" }, "test"),
        el("label", { class: "check" }, this.logScale, " log scale")));

    this.network = el("svg", { id: "model-network", role: "img",
      "aria-label": "the network: edge width shows the size of a weight, its colour the sign" });
    const networkPanel = el("section", { class: "panel model-network-panel", "aria-label": "Network" },
      el("h2", {}, "Network"), this.network,
      el("p", { class: "hint" }, "Blue: positive weight, orange: negative; wider: larger."));

    this.explainBody = el("div", { id: "model-explain-body", "aria-live": "polite" },
      el("p", { class: "hint" }, "Pick a training point to see one gradient step on it."));
    const explainPanel = el("section", { class: "panel model-explain", "aria-label": "Explain this step" },
      el("h2", {}, "Explain this step"), this.explainBody);

    this.export = new ExportPanel((suffix) => this.call(suffix));
    this.root.append(toolbar, ...this.controls.panels, this.viewPanel, lossPanel, networkPanel,
      explainPanel, this.export.panel);
  }

  // ---- settings ---------------------------------------------------------------------
  task() {
    if (this.settings.dataset === "upload") return this.upload.task;
    return this.options.datasets.find((d) => d.name === this.settings.dataset)?.task || null;
  }

  // A data set that the chosen model cannot learn switches the model to one that can.
  fixModel() {
    const models = this.options.models;
    const current = models.find((m) => m.name === this.settings.model);
    if (!current || !fits(current, this.task())) {
      this.settings.model = (models.find((m) => fits(m, this.task())) || models[0]).name;
    }
  }

  edit(patch) {
    Object.assign(this.settings, patch);
    if ("dataset" in patch) this.fixModel();
    this.changed();
  }

  changed() {
    writeState("model", this.settings);
    this.controls.show(this.settings, { task: this.task(), upload: this.upload.note });
    this.pause();
    this.setReady(false);
    delete this.root.dataset.drawnEpoch;
    clearTimeout(this.settle);
    this.settle = setTimeout(() => this.newSession(), SETTLE_MS);
  }

  async sendFile(file) {
    const most = this.options.limits?.upload_bytes;
    if (most && file.size > most) {
      showError(this.root, { field: "upload_id", message: `${file.name} is ${file.size} bytes; the most is ${most}` });
      return;
    }
    try {
      const reply = await api("/api/uploads", await file.text(), { contentType: "text/csv" });
      this.upload = { task: reply.task, note: `${file.name}: ${reply.rows} rows (${(reply.columns || []).join(", ")}), ${reply.task}` };
      this.edit({ upload_id: reply.upload_id });
    } catch (err) {
      showError(this.root, { field: "upload_id", message: err.message });
    }
  }

  // ---- the session ------------------------------------------------------------------
  async newSession() {
    const generation = (this.generation += 1);
    const old = this.session;
    this.session = null;
    this.setButtons();
    if (old) await this.drop(old.id);
    if (this.settings.dataset === "upload" && !this.settings.upload_id) {
      clearErrors(this.root);
      showError(this.root, { field: "upload_id", message: "choose a CSV file to train on" });
      return;
    }
    try {
      const reply = await api("/api/models", requestBody(this.settings));
      if (generation !== this.generation) { this.drop(reply.id); return; }
      clearErrors(this.root);
      this.session = reply;
      this.history = [];
      this.selected = null;
      this.scale = colourScale(reply.task, [...reply.train.y, ...reply.test.y]);
      this.legendBox.replaceChildren(legend(this.scale, reply.task, reply.classes || [], reply.snapshot.grid.kind),
        el("p", { class: "hint", id: "model-axes" }, axes(reply)));
      this.pointInput.max = String(reply.train.X.length - 1);
      this.explainBody.replaceChildren(el("p", { class: "hint" }, "Pick a training point to see one gradient step on it."));
      this.root.dataset.session = reply.id;
      this.receive(reply.snapshot);
      this.setButtons();
      this.setReady(true);
      this.export.refresh();
    } catch (err) {
      if (generation === this.generation) showError(this.root, err);
    }
  }

  path() {
    return `/api/models/${encodeURIComponent(this.session.id)}`;
  }

  drop(id) {
    return api(`/api/models/${encodeURIComponent(id)}`, undefined, { method: "DELETE" }).catch(() => null);
  }

  close() {
    this.pause();
    if (this.session) fetch(this.path(), { method: "DELETE", keepalive: true }).catch(() => null);
  }

  // A call on the session; an expired session is started again with the same settings.
  async call(suffix, body) {
    if (!this.session) return null;
    try {
      return await api(`${this.path()}${suffix}`, body);
    } catch (err) {
      if (err.status === 404) {
        this.session = null;
        await this.newSession();
        showError(this.root, { field: null, message: "that session had expired; a new one has started with the same settings" });
      } else {
        showError(this.root, err);
      }
      return null;
    }
  }

  // ---- training -----------------------------------------------------------------------
  chunk() {
    const limits = this.options.limits || {};
    const most = limits.epochs_per_stream ?? limits.epochs_per_step;
    return typeof most === "number" ? Math.min(most, CHUNK) : CHUNK;
  }

  play() {
    if (!this.session || this.playing) return;
    clearErrors(this.root);
    this.playing = true;
    this.setButtons();
    this.stream();
  }

  // One EventSource per chunk of epochs; the next opens when the server says the chunk ended.
  stream() {
    const source = new EventSource(`${this.path()}/stream?epochs=${this.chunk()}&interval=${PACE}`);
    this.source = source;
    source.addEventListener("message", (event) => {
      if (this.source === source) this.receive(JSON.parse(event.data));
    });
    source.addEventListener("end", (event) => {
      source.close();
      if (this.source !== source) return;
      this.source = null;
      const end = parse(event.data);
      // A chunk that trained nothing (diverged, or the session's most epochs) ends Play.
      if (end.message) this.say(end.status, end.message);
      if (end.epochs === 0) this.pause();
      else if (this.playing) this.stream();
    });
    // Both a failed connection and the server's own `event: error` (which carries a message).
    source.addEventListener("error", (event) => {
      source.close();
      if (this.source !== source) return;
      this.pause();
      const said = parse(event.data);
      showError(this.root, { field: said.field || null,
        message: said.error || "the training stream stopped; press Play to go on (or Reset)" });
    });
  }

  pause() {
    this.playing = false;
    if (this.source) { this.source.close(); this.source = null; }
    this.setButtons();
    this.export.refresh();
  }

  async step() {
    this.pause();
    clearErrors(this.root);
    const snapshot = await this.call("/step", { epochs: 1 });
    if (snapshot) this.receive(snapshot);
    this.export.refresh();
  }

  async reset() {
    this.pause();
    clearErrors(this.root);
    const snapshot = await this.call("/reset", {});
    if (!snapshot) return;
    this.history = [];
    this.receive(snapshot);
    this.export.refresh();
  }

  receive(snapshot) {
    this.snapshot = snapshot;
    const last = this.history[this.history.length - 1];
    if (last && snapshot.epoch <= last.epoch) this.history = this.history.filter((h) => h.epoch < snapshot.epoch);
    this.history.push({ epoch: snapshot.epoch, train_loss: snapshot.train_loss, test_loss: snapshot.test_loss });
    this.epoch.textContent = String(snapshot.epoch);
    this.trainLoss.textContent = fmt(snapshot.train_loss);
    this.testLoss.textContent = fmt(snapshot.test_loss);
    Object.assign(this.root.dataset, { epoch: snapshot.epoch, trainLoss: snapshot.train_loss,
      testLoss: snapshot.test_loss });
    this.say(snapshot.status, snapshot.message);
    this.export.update(this.path(), snapshot.epoch);
    if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = null; this.draw(); });
  }

  // ---- drawing ----------------------------------------------------------------------------
  draw() {
    if (!this.session || !this.snapshot || this.root.hidden) return;
    const snapshot = this.snapshot;
    const room = this.viewPanel.clientWidth - 26;
    this.size = Math.max(120, Math.min(HEATMAP_MOST, room));
    drawHeatmap(this.heatmap, snapshot.grid, { task: this.session.task, classes: this.session.classes || [],
      train: this.session.train, test: this.session.test, scale: this.scale, selected: this.selected }, this.size);
    drawLossChart(this.lossChart, this.history, this.logScale.checked);
    if (snapshot.network) drawNetwork(this.network, snapshot.network);
    this.root.dataset.drawnEpoch = snapshot.epoch;
  }

  // Why training stopped (diverged, or the session's most epochs), or nothing.
  say(status, message) {
    this.status.textContent = message || "";
    this.status.className = `model-status ${status || ""}`;
  }

  setButtons() {
    const ready = Boolean(this.session);
    if (!ready) this.export.update(null, null);
    this.playButton.disabled = !ready;
    this.stepButton.disabled = !ready;
    this.resetButton.disabled = !ready;
    this.playButton.textContent = this.playing ? "Pause" : "Play";
    this.playButton.setAttribute("aria-pressed", String(this.playing));
    this.root.dataset.playing = String(this.playing);
  }

  setReady(ready) {
    this.root.dataset.ready = String(ready);
  }

  // ---- explain --------------------------------------------------------------------------
  pick(event) {
    if (!this.session || !this.snapshot) return;
    const index = nearestPoint(this.snapshot.grid, this.session.train, this.size, event.offsetX, event.offsetY);
    if (index !== null) {
      this.pointInput.value = String(index);
      this.explain(index);
    }
  }

  explainTyped() {
    const index = Number(this.pointInput.value);
    if (this.pointInput.value.trim() === "" || !Number.isInteger(index)) {
      showError(this.root, { field: "point", message: "type the number of a training point (0, 1, 2, ...)" });
      return;
    }
    this.explain(index);
  }

  async explain(index) {
    this.pause();
    clearErrors(this.root);
    const reply = await this.call("/explain", { point: index });
    if (!reply) return;
    this.selected = index;
    this.explainBody.replaceChildren(...explanation(reply, index, this.snapshot.epoch).filter(Boolean));
    this.draw();
  }
}

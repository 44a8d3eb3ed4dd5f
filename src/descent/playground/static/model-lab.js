// The model lab: pick data, a model and its training settings, then watch descent train it.
// Every number comes from the server (a model session per setup); this file keeps the one
// settings object (also in the URL), runs Play / Step / Reset and hands snapshots to the
// drawing code. The lab starts the first time its tab is shown.
import { api, clearErrors, el, fmt, readState, showError, writeState } from "./common.js";
import { colourScale, drawHeatmap, drawLossChart, drawNetwork, legend, nearestPoint } from "./model-charts.js";
import { explanation, typedPoint } from "./model-explain.js";
import { PICK_HINT, axes, layout } from "./model-layout.js";
import { chunk, fittingModel, requestBody, restore, taskOf, upload } from "./model-settings.js";
import { Session } from "./model-session.js";
import { Stream } from "./model-stream.js";

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

class Lab {
  constructor(root, options) {
    this.root = root;
    this.options = options;
    this.settings = restore(readState("model"), options);
    this.server = new Session();
    this.snapshot = null;
    this.history = [];
    this.selected = null;
    this.upload = { task: null, note: "" };
    this.stream = new Stream({
      snapshot: (snapshot) => this.receive(snapshot),
      said: (status, message) => this.say(status, message),
      stopped: (error) => { this.pause(); if (error) showError(this.root, error); },
    });
    this.build();
    this.fixModel();
    this.changed();
    window.addEventListener("resize", () => this.draw());
  }

  get session() {
    return this.server.current; // null while a new one is on its way
  }

  get playing() {
    return this.stream.playing;
  }

  // ---- the page -------------------------------------------------------------------
  build() {
    Object.assign(this, layout(this.options, {
      play: () => (this.playing ? this.pause() : this.play()), step: () => this.step(),
      reset: () => this.reset(), edit: (patch) => this.edit(patch), sendFile: (file) => this.sendFile(file),
      pick: (event) => this.pick(event), explainTyped: () => this.explainTyped(), draw: () => this.draw(),
      load: (suffix) => this.call(suffix),
    }));
    this.root.append(...this.panels);
  }

  // ---- settings ---------------------------------------------------------------------
  task() {
    return taskOf(this.settings, this.options, this.upload.task);
  }

  fixModel() {
    this.settings.model = fittingModel(this.options.models, this.settings.model, this.task());
  }

  edit(patch) {
    Object.assign(this.settings, patch);
    if ("dataset" in patch) this.fixModel();
    this.changed();
  }

  // The setup changed: the session shown is over at once (no button reaches it, no reply
  // to it is drawn); a new one starts once the changes settle.
  changed() {
    writeState("model", this.settings);
    this.controls.show(this.settings, { task: this.task(), upload: this.upload.note });
    this.retire();
    clearTimeout(this.settle);
    this.settle = setTimeout(() => this.newSession(), SETTLE_MS);
  }

  async sendFile(file) {
    try {
      const reply = await upload(file, this.options.limits?.upload_bytes);
      this.upload = { task: reply.task, note: reply.note };
      this.edit({ upload_id: reply.upload_id });
    } catch (err) {
      showError(this.root, { field: "upload_id", message: err.message });
    }
  }

  // ---- the session ------------------------------------------------------------------
  // Stops using the session shown (no button reaches it, no reply to it is drawn).
  retire() {
    this.server.retire();
    this.pause();
    this.setReady(false);
    delete this.root.dataset.drawnEpoch;
  }

  async newSession() {
    this.retire();
    if (this.settings.dataset === "upload" && !this.settings.upload_id) {
      // (a refused file's reason, shown while the change settled, stays)
      const said = this.root.querySelector('[data-error-for="upload_id"]')?.textContent;
      showError(this.root, { field: "upload_id", message: said || "choose a CSV file to train on" });
      return;
    }
    let reply;
    try {
      reply = await this.server.create(requestBody(this.settings));
    } catch (err) {
      showError(this.root, err);
    }
    if (!reply) return;
    clearErrors(this.root);
    this.history = [];
    this.selected = null;
    this.scale = colourScale(reply.task, [...reply.train.y, ...reply.test.y]);
    this.legendBox.replaceChildren(legend(this.scale, reply.task, reply.classes || [], reply.snapshot.grid.kind),
      el("p", { class: "hint", id: "model-axes" }, axes(reply)));
    this.pointInput.max = String(reply.train.X.length - 1);
    this.explainBody.replaceChildren(el("p", { class: "hint" }, PICK_HINT));
    this.root.dataset.session = reply.id;
    this.receive(reply.snapshot);
    this.setButtons();
    this.setReady(true);
    this.export.refresh();
  }

  close() {
    this.pause();
    this.server.close();
  }

  // A call on the session, null when it failed or its reply is stale. An expired session
  // is started again with the same settings.
  async call(suffix, body) {
    try {
      return await this.server.call(suffix, body);
    } catch (err) {
      if (err.status === 404) {
        await this.newSession();
        showError(this.root, { field: null, message: "that session had expired; a new one has started with the same settings" });
      } else {
        showError(this.root, err); // (a busy server's 503 says so here)
      }
      return null;
    }
  }

  // ---- training -----------------------------------------------------------------------
  play() {
    if (!this.session || this.playing) return;
    clearErrors(this.root);
    this.stream.start(this.server.path(), chunk(this.options.limits, CHUNK), PACE);
    this.setButtons();
  }

  pause() {
    this.stream.stop();
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
    this.server.renew(); // a step still on its way lands before the reset: not drawn
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
    this.export.update(this.server.path(), snapshot.epoch);
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

  // Play, Step, Reset, explain and export reach a session only while one is ready.
  setButtons() {
    const ready = Boolean(this.session);
    if (!ready) this.export.update(null, null);
    for (const button of [this.playButton, this.stepButton, this.resetButton, this.explainButton]) {
      button.disabled = !ready;
    }
    this.export.enable(ready);
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
    const index = typedPoint(this.pointInput.value);
    if (index === null) showError(this.root, { field: "point", message: "type the number of a training point (0, 1, 2, ...)" });
    else this.explain(index);
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

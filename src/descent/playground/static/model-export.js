// "Take it with you": the trained model as a descent model file, and the Python (descent's
// API) that rebuilds the same data and retrains the same model; both from the server.
import { el } from "./common.js";

export class ExportPanel {
  // `load(suffix)` asks the session (GET /api/models/{id}<suffix>), null when it cannot.
  constructor(load) {
    this.load = load;
    this.link = el("a", { id: "model-export", class: "action-link", download: "" }, "Download the model file");
    this.code = el("code", { id: "model-python-code" });
    this.note = el("span", { class: "hint", id: "model-python-note", "aria-live": "polite" });
    this.box = el("div", { class: "model-python", hidden: true }, el("pre", {}, this.code),
      el("button", { type: "button", class: "action secondary", id: "model-python-copy",
        onclick: () => this.copy() }, "Copy"), this.note);
    this.button = el("button", { type: "button", class: "action secondary", id: "model-python",
      "aria-expanded": "false", onclick: () => this.toggle() }, "Show the Python");
    this.panel = el("section", { class: "panel model-export", "aria-label": "Export" },
      el("h2", {}, "Take it with you"), el("div", { class: "model-buttons" }, this.link, this.button), this.box);
    this.path = null;
    this.epoch = null;
    this.shownEpoch = null;
  }

  // The session at `path` is at `epoch` (path null: no session). The model file exists
  // once the model has trained.
  update(path, epoch) {
    if (path !== this.path) this.shownEpoch = null;
    this.path = path;
    this.epoch = epoch;
    if (path && epoch > 0) this.link.href = `${path}/export`;
    else this.link.removeAttribute("href");
  }

  // Whether there is a session to ask (off while a new one starts).
  enable(on) {
    this.button.disabled = !on;
  }

  // The shown script follows the session when training pauses (it retrains epoch by epoch).
  refresh() {
    if (!this.box.hidden && this.path && this.shownEpoch !== this.epoch) this.fill();
  }

  toggle() {
    const open = this.box.hidden;
    this.box.hidden = !open;
    this.button.setAttribute("aria-expanded", String(open));
    this.button.textContent = open ? "Hide the Python" : "Show the Python";
    this.refresh();
  }

  async fill() {
    const epoch = this.epoch;
    const reply = await this.load("/python");
    if (reply === null) return;
    this.code.textContent = typeof reply === "string" ? reply : (reply.code || "");
    this.shownEpoch = epoch;
    this.note.textContent = "";
  }

  async copy() {
    try {
      await navigator.clipboard.writeText(this.code.textContent);
      this.note.textContent = "copied";
    } catch {
      // No clipboard permission: select the code so Ctrl-C copies it.
      window.getSelection().selectAllChildren(this.code);
      this.note.textContent = "selected: press Ctrl-C to copy";
    }
  }
}

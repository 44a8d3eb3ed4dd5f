// The learning-rate lab's view: the STEP / RUN / RESET buttons, the readout of the step
// shown, the state and its feedback, the plot and its legend. It shows what the lab
// (rate-lab.js) hands it; the numbers are the server's.
import { el, fmt } from "./common.js";
import { Plot } from "./rate-plot.js";
import { LABELS, compareLine, feedback, legendItems, says } from "./rate-words.js";

export class RateView {
  // `act`: {step(), run(), reset(), pick([x, y])} (pick: the plot was clicked at data x, y).
  constructor(act) {
    const button = (id, text, onclick, extra = "") => el("button", { id, type: "button", class: `action ${extra}`, onclick }, text);
    this.buttons = {
      step: button("rate-step", "STEP", act.step),
      run: button("rate-run", "RUN", act.run),
      reset: button("rate-reset", "RESET", act.reset, "secondary"),
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
    this.canvas.addEventListener("click", (event) => {
      const box = this.canvas.getBoundingClientRect();
      const at = this.plot.frame?.data(event.clientX - box.left, event.clientY - box.top);
      if (at) act.pick(at);
    });
    this.plot = new Plot(this.canvas);
    this.plotBox = el("div", { class: "rate-canvas" }, this.canvas);
    this.legend = el("p", { class: "rate-legend", id: "rate-legend" });
    const o = this.out;
    this.section = el("section", { class: "panel rate-view", "aria-label": "Descent" },
      el("div", { class: "rate-buttons" }, this.buttons.step, this.buttons.run, this.buttons.reset),
      el("p", { class: "rate-readout" },
        el("span", {}, "Step ", o.steps), el("span", {}, "f = ", o.value), el("span", {}, "slope ", o.slope)),
      o.status, o.feedback, o.message, o.compare, this.plotBox, this.legend);
  }

  // `state`: {settings, surface, main, compare (/api/descend replies or null), index (the
  // step shown), playing, finished, statusOf(reply) (its status at the step shown)}.
  render(state) {
    const { main, compare, index, playing } = state;
    const out = this.out;
    this.buttons.run.textContent = playing ? "PAUSE" : "RUN";
    this.buttons.run.setAttribute("aria-pressed", String(playing));
    this.buttons.step.disabled = state.finished || !main;
    this.buttons.run.disabled = !playing && (state.finished || !main);
    out.steps.textContent = String(index);
    if (!main) {
      out.value.textContent = "-";
      out.slope.textContent = "-";
      this.setStatus(null, "", "");
    } else {
      const at = Math.min(index, main.points.length - 1);
      const point = main.points[at];
      const gradient = main.gradients[at];
      out.value.textContent = fmt(point[point.length - 1]);
      out.slope.textContent = gradient.length === 1 ? fmt(gradient[0]) : `(${gradient.map((g) => fmt(g)).join(", ")})`;
      const status = state.statusOf(main);
      const view = { index, playing, steps: Number(state.settings.steps) };
      this.setStatus(status, feedback(status, main, view), says(main, status, index) ? main.message : "");
    }
    out.compare.hidden = !compare;
    if (compare) out.compare.textContent = compareLine(state.settings, compare, state.statusOf(compare), index);
    this.legend.replaceChildren(...legendItems(state.settings, main, state.surface));
    this.plot.draw({ surface: state.surface, main, compare, runs: main ? main.runs : [], best: main ? main.best : 0,
      index }, Math.floor(this.plotBox.clientWidth));
  }

  setStatus(status, words, message) {
    const out = this.out;
    out.status.textContent = status ? LABELS[status] || status : "";
    out.status.dataset.status = status || "none";
    out.status.className = `status ${status || ""}`;
    out.feedback.textContent = words;
    out.message.textContent = message;
  }
}

// What the learning-rate lab says: the state's name, the feedback sentence for the step
// shown, the compare line and the plot's legend. The verdicts (converged, diverged,
// bouncing) are the server's; these are the words around them.
import { el } from "./common.js";

export const LABELS = { converged: "Converged", diverged: "Diverging", bouncing: "Bouncing", running: "Running" };

// The feedback for `main` (a /api/descend reply) in `status` at the step shown
// (`view.index`), while `view.playing` or not, when RUN may take `view.steps` steps.
export function feedback(status, main, view) {
  const n = view.index;
  const steps = `${main.steps} step${main.steps === 1 ? "" : "s"}`;
  if (status === "converged") {
    return `Reached the minimum (|slope| or the step < tol) in ${steps} \u2014 try a rate that does it in fewer.`;
  }
  if (status === "diverged") return "Diverging: every step overshoots further and the value grows. Try a smaller learning rate.";
  if (status === "bouncing") return "Bouncing: the steps jump across the valley and back without settling. Try a smaller learning rate.";
  if (view.playing) return "Playing the run\u2026";
  if (n === 0) return "At the start: press STEP to take one step, or RUN to play the whole run.";
  if (n >= main.steps && n === view.steps) {
    return `Stopped after ${steps} without reaching the minimum: allow more steps, or try a larger rate.`;
  }
  return `Step ${n}: still on the way down.`;
}

// Whether the server's own sentence for `reply` shows at step `index`: once the step shown
// is the run's last (at step 0 the feedback says it, unless it converged there).
export function says(reply, status, index) {
  return index >= reply.steps && (reply.steps > 0 || status === "converged");
}

// The compare setting's line: its optimizer, rate and state.
export function compareLine(settings, compare, status, index) {
  const s = settings.compare;
  return `Compare (${s.optimizer}, rate ${s.learning_rate}): ${LABELS[status] || status}`
    + (says(compare, status, index) ? `; ${compare.message}` : "");
}

// The legend's keys for what the plot shows.
export function legendItems(settings, main, surface) {
  const s = settings;
  const item = (colour, text) => el("span", { class: "rate-key" }, el("span", { class: `rate-swatch ${colour}` }), text);
  const items = [item("main", `${s.optimizer}, rate ${s.learning_rate}`)];
  if (s.compare.on) items.push(item("compare", `${s.compare.optimizer}, rate ${s.compare.learning_rate}`));
  if (main && main.runs.length) items.push(item("restart", "other restarts"), item("best", "best run"));
  if (surface && surface.variables.length === 1) items.push(item("tangent", "tangent at the point (its slope)"));
  else if (surface) items.push(item("downhill", "arrow: downhill, against the gradient"));
  return items;
}

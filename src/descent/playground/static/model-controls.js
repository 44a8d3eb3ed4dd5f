// The model lab's settings form, built from GET /api/options: every list and every limit
// comes from the server. The form reports changes; the lab decides what they start.
import { el } from "./common.js";
import { fits } from "./model-settings.js";

// A limit as the server states it (a number is the most allowed; [lo, hi] or {min, max}).
export function bounds(limit) {
  if (typeof limit === "number") return { max: limit };
  if (Array.isArray(limit)) return { min: limit[0], max: limit[1] };
  if (limit && typeof limit === "object") return { min: limit.min, max: limit.max };
  return {};
}

let counter = 0;

function field(name, labelText, control, hint) {
  const id = control.id || `model-field-${(counter += 1)}`;
  control.id = id;
  control.name = name;
  return el("div", { class: "model-field", "data-field": name },
    el("label", { for: id }, labelText), control,
    hint ? el("div", { class: "hint" }, hint) : null,
    el("div", { class: "error", "data-error-for": name, role: "alert" }));
}

function number(id, limit, step = "any") {
  const { min, max } = bounds(limit);
  return el("input", { type: "number", id, min, max, step, inputmode: "decimal" });
}

function select(id, items) {
  return el("select", { id }, items.map(([value, text]) => el("option", { value }, text)));
}

// Builds the data and model panels. `onChange(patch)` gets the settings that changed;
// `onFile(file)` gets a chosen CSV file. Returns {panels, show(settings, context)}.
export function buildControls(options, onChange, onFile) {
  const limits = options.limits || {};
  const byId = {};
  const dataset = select("model-dataset", options.datasets.map((d) => [d.name, d.label || d.name]));
  const curve = el("input", { type: "text", id: "model-curve", spellcheck: "false", autocomplete: "off" });
  const upload = el("input", { type: "file", id: "model-upload", accept: ".csv,text/csv" });
  const uploadNote = el("div", { class: "hint", id: "model-upload-note", "aria-live": "polite" });
  const points = number("model-points", limits.n_points, 1);
  const noise = number("model-noise", limits.noise);
  const ratio = number("model-ratio", limits.train_ratio);
  const seed = number("model-seed", limits.seed, 1);
  const kind = select("model-kind", options.models.map((m) => [m.name, m.label || m.name]));
  const activation = select("model-activation", (options.activations || []).map((a) => [a, a]));
  const optimizer = select("model-optimizer", (options.optimizers || []).map((o) => [o, o]));
  const rate = number("model-rate", limits.learning_rate);
  const batch = number("model-batch", limits.batch_size, 1);
  const penalty = select("model-penalty", (options.penalties || [null]).map((p) => [p ?? "none", p ?? "none"]));
  const alpha = number("model-alpha", limits.alpha);
  Object.assign(byId, { dataset, curve, n_points: points, noise, train_ratio: ratio, seed, model: kind,
    activation, optimizer, learning_rate: rate, batch_size: batch, penalty, alpha });

  const layers = el("div", { class: "model-layers", id: "model-layers" });
  const layerLimit = bounds(limits.hidden_layers);
  const neuronLimit = bounds(limits.neurons);
  let hidden = [];
  const setHidden = (next) => onChange({ hidden_layers: next });
  const stepper = (text, id, value, low, high, change) => el("div", { class: "stepper" },
    el("button", { type: "button", class: "small", id: `${id}-minus`, "aria-label": `fewer ${text}`,
      disabled: value <= low, onclick: () => change(-1) }, "\u2212"),
    el("span", { class: "stepper-value", id, "aria-live": "polite" }, `${value} ${text}`),
    el("button", { type: "button", class: "small", id: `${id}-plus`, "aria-label": `more ${text}`,
      disabled: high !== undefined && value >= high, onclick: () => change(1) }, "+"));
  const drawLayers = () => {
    const rows = [stepper("hidden layers", "model-layer-count", hidden.length, layerLimit.min ?? 1,
      layerLimit.max, (d) => setHidden(d > 0 ? [...hidden, hidden[hidden.length - 1] || 2] : hidden.slice(0, -1)))];
    hidden.forEach((count, i) => rows.push(stepper(`neurons in layer ${i + 1}`, `model-neurons-${i}`, count,
      neuronLimit.min ?? 1, neuronLimit.max,
      (d) => setHidden(hidden.map((c, j) => (j === i ? c + d : c))))));
    const focused = document.activeElement && layers.contains(document.activeElement) ? document.activeElement.id : null;
    layers.replaceChildren(...rows);
    if (focused) {
      const again = document.getElementById(focused);
      (again && !again.disabled ? again : layers.querySelector("button:not(:disabled)"))?.focus();
    }
  };

  const features = el("fieldset", { class: "model-features", id: "model-features" },
    el("legend", {}, "Input features"),
    options.features.map((name, i) => el("label", { class: "check" },
      el("input", { type: "checkbox", name: "features", value: name, id: `model-feature-${i}` }), ` ${name}`)),
    el("div", { class: "error", "data-error-for": "features", role: "alert" }));

  const curveField = field("curve", "Curve y = f(x)", curve, "points above the curve are one class, below the other");
  const uploadField = el("div", { class: "model-field", "data-field": "upload_id" },
    el("label", { for: "model-upload" }, "CSV file (two feature columns, the target last)"), upload, uploadNote,
    el("div", { class: "error", "data-error-for": "upload_id", role: "alert" }));
  upload.name = "upload_id";
  const noiseField = field("noise", "Noise", noise);
  const pointsField = field("n_points", "Number of points", points);
  const mlpPart = el("div", { class: "model-mlp" }, el("h3", {}, "Network"), layers,
    el("div", { class: "error", "data-error-for": "hidden_layers", role: "alert" }),
    field("activation", "Activation", activation));
  const alphaField = field("alpha", "Penalty strength (alpha)", alpha);

  const dataPanel = el("section", { class: "panel model-data", "aria-label": "Data" },
    el("h2", {}, "Data"), field("dataset", "Data set", dataset), curveField, uploadField,
    pointsField, noiseField,
    field("train_ratio", "Share used for training", ratio), field("seed", "Seed (data and first weights)", seed));
  const modelPanel = el("section", { class: "panel model-model", "aria-label": "Model" },
    el("h2", {}, "Model"), field("model", "Model", kind), mlpPart, features,
    field("optimizer", "Optimizer", optimizer), field("learning_rate", "Learning rate", rate),
    field("batch_size", "Batch size", batch), field("penalty", "Penalty", penalty), alphaField);

  // Selects and boxes report when their value is settled: a choice, Enter, or leaving the box.
  const numeric = new Set(["n_points", "noise", "train_ratio", "seed", "learning_rate", "batch_size", "alpha"]);
  for (const [name, control] of Object.entries(byId)) {
    control.addEventListener("change", () => {
      let value = control.value;
      if (numeric.has(name)) value = value.trim() === "" ? null : Number(value);
      if (name === "penalty" && value === "none") value = null;
      onChange({ [name]: value });
    });
  }
  features.addEventListener("change", () => onChange({
    features: [...features.querySelectorAll("input:checked")].map((box) => box.value) }));
  upload.addEventListener("change", () => { if (upload.files[0]) onFile(upload.files[0]); });

  // Puts `settings` into the form; `context` = {task (the data set's), upload (a note)}.
  function show(settings, context = {}) {
    for (const [name, control] of Object.entries(byId)) {
      const value = settings[name];
      const text = value === null || value === undefined ? (name === "penalty" ? "none" : "") : String(value);
      if (control.value !== text && document.activeElement !== control) control.value = text;
    }
    for (const box of features.querySelectorAll("input")) box.checked = settings.features.includes(box.value);
    for (const option of kind.options) {
      const model = options.models.find((m) => m.name === option.value);
      option.disabled = !fits(model, context.task);
    }
    curveField.hidden = settings.dataset !== "curve";
    uploadField.hidden = settings.dataset !== "upload";
    // An upload trains on all its rows as they are.
    noiseField.hidden = settings.dataset === "upload";
    pointsField.hidden = settings.dataset === "upload";
    uploadNote.textContent = context.upload || "";
    mlpPart.hidden = settings.model !== "mlp";
    alpha.disabled = settings.penalty === null;
    if (JSON.stringify(hidden) !== JSON.stringify(settings.hidden_layers)) {
      hidden = [...settings.hidden_layers];
      drawLayers();
    }
  }

  return { panels: [dataPanel, modelPanel], show };
}

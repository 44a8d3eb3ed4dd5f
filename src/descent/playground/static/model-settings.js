// The model lab's one settings object: its defaults, what a shared URL may restore, and
// the POST /api/models body built from it; the upload of a CSV file (POST /api/uploads).
// Names and limits come from GET /api/options.
import { api } from "./common.js";

// The request fields of POST /api/models that the page keeps (and puts in the URL).
export const FIELDS = ["dataset", "curve", "upload_id", "n_points", "noise", "train_ratio", "model",
  "hidden_layers", "activation", "features", "optimizer", "learning_rate", "batch_size", "penalty",
  "alpha", "seed"];

// The server's documented defaults (docs/playground.md); options.defaults overrides them.
const DEFAULTS = {
  dataset: "circle", curve: "sin(3*x)", upload_id: null, n_points: 200, noise: 0.1, train_ratio: 0.5,
  model: "mlp", hidden_layers: [4, 2], activation: "tanh", features: ["x1", "x2"], optimizer: "gd",
  learning_rate: 0.03, batch_size: 10, penalty: null, alpha: 0, seed: 0,
};

// Whether a model can learn a data set's task ("both", a list, or no task: any).
export function fits(model, task) {
  if (!task || !model.task || model.task === "both") return true;
  return Array.isArray(model.task) ? model.task.includes(task) : model.task === task;
}

// The task of the chosen data set ("classification" / "regression"), null when unknown.
export function taskOf(settings, options, uploadTask) {
  if (settings.dataset === "upload") return uploadTask;
  return options.datasets.find((d) => d.name === settings.dataset)?.task || null;
}

// The model named `name` when it can learn `task`, else the first that can: a data set that
// the chosen model cannot learn switches the model.
export function fittingModel(models, name, task) {
  const current = models.find((m) => m.name === name);
  if (current && fits(current, task)) return name;
  return (models.find((m) => fits(m, task)) || models[0]).name;
}

// Epochs per stream while playing: `most`, or the server's limit when that is fewer.
export function chunk(limits, most) {
  const limit = limits?.epochs_per_stream ?? limits?.epochs_per_step;
  return typeof limit === "number" ? Math.min(limit, most) : most;
}

// Sends a CSV file: {upload_id, task, note} (the note says what the server read), or throws
// an Error that says why not. A file over `most` bytes is refused before it is read.
export async function upload(file, most) {
  if (most && file.size > most) throw new Error(`${file.name} is ${file.size} bytes; the most is ${most}`);
  const reply = await api("/api/uploads", await file.text(), { contentType: "text/csv" });
  const columns = (reply.columns || []).join(", ");
  return { upload_id: reply.upload_id, task: reply.task, note: `${file.name}: ${reply.rows} rows (${columns}), ${reply.task}` };
}

// The settings from a saved setup (the URL's), keeping only known names and values of the
// right kind; the server checks the values themselves.
export function restore(saved, options) {
  const settings = { ...DEFAULTS, ...(options.defaults || {}) };
  if (!saved) return settings;
  const names = { dataset: options.datasets.map((d) => d.name), model: options.models.map((m) => m.name),
    activation: options.activations || [], optimizer: options.optimizers || [], penalty: options.penalties || [] };
  for (const key of FIELDS) {
    if (!(key in saved)) continue;
    const value = saved[key];
    if (key in names) {
      if (names[key].includes(value)) settings[key] = value;
    } else if (key === "features") {
      if (Array.isArray(value)) settings.features = value.filter((f) => options.features.includes(f));
    } else if (key === "hidden_layers") {
      if (Array.isArray(value) && value.every(Number.isInteger)) settings.hidden_layers = value;
    } else if (key === "curve" || key === "upload_id") {
      if (typeof value === "string") settings[key] = value;
    } else if (typeof value === "number" || value === null) {
      settings[key] = value;
    }
  }
  return settings;
}

// The POST /api/models body: the settings that apply to this data set and model.
export function requestBody(settings) {
  const body = {};
  for (const key of FIELDS) if (settings[key] !== undefined && settings[key] !== null) body[key] = settings[key];
  body.penalty = settings.penalty;
  if (settings.dataset !== "curve") delete body.curve;
  if (settings.dataset !== "upload") delete body.upload_id;
  if (settings.dataset === "upload") { delete body.noise; delete body.n_points; } // all rows, as they are
  if (settings.model !== "mlp") { delete body.hidden_layers; delete body.activation; }
  return body;
}

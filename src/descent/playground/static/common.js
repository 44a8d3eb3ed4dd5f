// What both labs share: calling the API, showing its errors next to their fields, the
// settings kept in the URL, and a small DOM builder (no innerHTML anywhere).

export class ApiError extends Error {
  constructor(status, message, field) {
    super(message);
    this.status = status;
    this.field = field;
  }
}

// POST `body` as JSON (or GET when body is undefined); resolves to the parsed reply or
// throws an ApiError carrying the server's one-line message and the field it is about.
export async function api(path, body, options = {}) {
  const init = { method: options.method || (body === undefined ? "GET" : "POST"), headers: {} };
  if (body !== undefined) {
    if (typeof body === "string") {
      init.body = body;
      init.headers["content-type"] = options.contentType || "text/plain";
    } else {
      init.body = JSON.stringify(body);
      init.headers["content-type"] = "application/json";
    }
  }
  if (options.signal) init.signal = options.signal;
  let reply;
  try {
    reply = await fetch(path, init);
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "the playground server is not answering; is `descent playground` still running?", null);
  }
  const type = reply.headers.get("content-type") || "";
  const data = type.includes("json") ? await reply.json() : await reply.text();
  if (!reply.ok) {
    const message = data && data.error ? data.error : `request failed (HTTP ${reply.status})`;
    throw new ApiError(reply.status, message, data && data.field ? data.field : null);
  }
  return data;
}

// Show `error` in the element of `root` marked data-error-for="<field>", or in the one
// marked data-error-for="general" when no field matches.
export function showError(root, error) {
  clearErrors(root);
  const field = error && error.field;
  const target = (field && root.querySelector(`[data-error-for="${CSS.escape(field)}"]`))
    || root.querySelector('[data-error-for="general"]');
  if (target) target.textContent = error.message || String(error);
  const input = field && root.querySelector(`[name="${CSS.escape(field)}"]`);
  if (input) input.setAttribute("aria-invalid", "true");
}

export function clearErrors(root) {
  for (const node of root.querySelectorAll("[data-error-for]")) node.textContent = "";
  for (const node of root.querySelectorAll('[aria-invalid="true"]')) node.removeAttribute("aria-invalid");
}

// Settings live in the URL's fragment: #lab=rate&rate=<json>&model=<json>, so a teacher
// can share an exact setup. Each lab reads and writes its own key.
function fragment() {
  return new URLSearchParams(window.location.hash.replace(/^#/, ""));
}

export function readState(key) {
  const text = fragment().get(key);
  if (!text) return null;
  try {
    const value = JSON.parse(text);
    return value && typeof value === "object" ? value : null;
  } catch {
    return null;
  }
}

export function writeState(key, value) {
  const params = fragment();
  if (value === null || value === undefined) params.delete(key);
  else params.set(key, typeof value === "string" ? value : JSON.stringify(value));
  history.replaceState(null, "", `#${params.toString()}`);
}

export function readString(key) {
  return fragment().get(key);
}

// el("button", {class: "action", onclick: f}, "STEP"): attributes, listeners (on*),
// and children (strings become text nodes).
export function el(tag, attrs = {}, ...children) {
  const svg = ["svg", "g", "path", "line", "circle", "rect", "text", "polyline", "polygon",
               "defs", "marker", "title"].includes(tag);
  const node = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag)
                   : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// A number as people read it: 4 significant digits, exponent only when needed.
export function fmt(value, digits = 4) {
  if (value === null || value === undefined) return "-";
  if (!Number.isFinite(value)) return String(value);
  if (value !== 0 && (Math.abs(value) >= 1e5 || Math.abs(value) < 1e-3)) return value.toExponential(digits - 1);
  return String(Number(value.toPrecision(digits)));
}

// A canvas sized for its CSS box and the screen's pixel ratio; returns its 2-D context.
export function sharpCanvas(canvas, width, height) {
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const context = canvas.getContext("2d");
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  return context;
}

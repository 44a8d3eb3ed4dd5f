// The learning-rate lab's plot: the curve (1-D) or filled contours (2-D, rate-contours.js)
// from /api/surface, and the paths from /api/descend drawn over them. Nothing here computes
// the function: it maps numbers the server sent onto the canvas.
import { fmt, sharpCanvas } from "./common.js";
import { Contours } from "./rate-contours.js";

const MARGIN = { left: 46, right: 10, top: 10, bottom: 26 };
export const COLOURS = { main: "#e4572e", compare: "#8e44ad", restart: "#6b7689", best: "#1f8a4c",
  curve: "#2a6fdb", axis: "#5b6475", grid: "#e6e9ef" };

// The box the plot shows and the maps between data and canvas pixels.
export class Frame {
  constructor(width, height, xRange, yRange) {
    Object.assign(this, { width, height, xRange, yRange });
    this.left = MARGIN.left;
    this.top = MARGIN.top;
    this.innerWidth = Math.max(10, width - MARGIN.left - MARGIN.right);
    this.innerHeight = Math.max(10, height - MARGIN.top - MARGIN.bottom);
  }

  px(x) { return this.left + ((x - this.xRange[0]) / (this.xRange[1] - this.xRange[0])) * this.innerWidth; }

  py(y) { return this.top + (1 - (y - this.yRange[0]) / (this.yRange[1] - this.yRange[0])) * this.innerHeight; }

  // Canvas pixels back to data (a click on the plot); null outside the inner box.
  data(px, py) {
    const u = (px - this.left) / this.innerWidth;
    const v = 1 - (py - this.top) / this.innerHeight;
    if (u < 0 || u > 1 || v < 0 || v > 1) return null;
    return [this.xRange[0] + u * (this.xRange[1] - this.xRange[0]),
      this.yRange[0] + v * (this.yRange[1] - this.yRange[0])];
  }
}

// The value range of a 1-D curve, padded, for its vertical axis.
function curveRange(values) {
  const finite = values.filter((v) => v !== null && Number.isFinite(v));
  if (!finite.length) return [-1, 1];
  let low = Math.min(...finite);
  let high = Math.max(...finite);
  if (high - low < 1e-12) { low -= 1; high += 1; }
  const pad = (high - low) * 0.08;
  return [low - pad, high + pad];
}

function ticks(range, count = 5) {
  return Array.from({ length: count }, (_, i) => range[0] + ((range[1] - range[0]) * i) / (count - 1));
}

function axes(context, frame, xLabel, yLabel) {
  context.strokeStyle = COLOURS.axis;
  context.fillStyle = COLOURS.axis;
  context.lineWidth = 1;
  context.strokeRect(frame.left, frame.top, frame.innerWidth, frame.innerHeight);
  context.font = "11px system-ui, sans-serif";
  context.textAlign = "center";
  context.textBaseline = "top";
  for (const x of ticks(frame.xRange)) context.fillText(fmt(x, 3), frame.px(x), frame.top + frame.innerHeight + 4);
  context.textAlign = "right";
  context.textBaseline = "middle";
  for (const y of ticks(frame.yRange)) context.fillText(fmt(y, 3), frame.left - 4, frame.py(y));
  context.textAlign = "left";
  context.textBaseline = "top";
  context.fillText(yLabel, frame.left + 4, frame.top + 3);
  context.textAlign = "right";
  context.textBaseline = "bottom";
  context.fillText(xLabel, frame.left + frame.innerWidth - 4, frame.top + frame.innerHeight - 3);
}

// Clip drawing to the inner box, so a path that flies off the view stays off it.
function clipped(context, frame, draw) {
  context.save();
  context.beginPath();
  context.rect(frame.left, frame.top, frame.innerWidth, frame.innerHeight);
  context.clip();
  draw();
  context.restore();
}

function arrow(context, x1, y1, x2, y2, colour, width = 2) {
  const length = Math.hypot(x2 - x1, y2 - y1);
  if (!(length > 1)) return;
  const head = Math.min(10, length * 0.5);
  const angle = Math.atan2(y2 - y1, x2 - x1);
  context.strokeStyle = colour;
  context.fillStyle = colour;
  context.lineWidth = width;
  context.beginPath();
  context.moveTo(x1, y1);
  context.lineTo(x2 - head * 0.7 * Math.cos(angle), y2 - head * 0.7 * Math.sin(angle));
  context.stroke();
  context.beginPath();
  context.moveTo(x2, y2);
  context.lineTo(x2 - head * Math.cos(angle - 0.45), y2 - head * Math.sin(angle - 0.45));
  context.lineTo(x2 - head * Math.cos(angle + 0.45), y2 - head * Math.sin(angle + 0.45));
  context.closePath();
  context.fill();
}

function dot(context, x, y, radius, fill, stroke = "#fff") {
  context.beginPath();
  context.arc(x, y, radius, 0, 2 * Math.PI);
  context.fillStyle = fill;
  context.fill();
  context.lineWidth = 1.5;
  context.strokeStyle = stroke;
  context.stroke();
}

// A path's first `upto` + 1 points as canvas pixels: points are [x, f] in 1-D and
// [x, y, f] in 2-D, so the first two numbers are where to draw in both.
function pixels(frame, points, upto) {
  return points.slice(0, upto + 1).map((p) => [frame.px(p[0]), frame.py(p[1])]);
}

function polyline(context, list, colour, width, alpha = 1) {
  if (list.length < 2) return;
  context.globalAlpha = alpha;
  context.strokeStyle = colour;
  context.lineWidth = width;
  context.beginPath();
  list.forEach(([x, y], i) => (i ? context.lineTo(x, y) : context.moveTo(x, y)));
  context.stroke();
  context.globalAlpha = 1;
}

// Draws everything: `scene` = {surface, main, compare, runs, best, index, tangent}
// where main/compare are /api/descend replies and index the step shown.
export class Plot {
  constructor(canvas) {
    this.canvas = canvas;
    this.frame = null;
    this.contours = new Contours();
  }

  draw(scene, width) {
    const { surface } = scene;
    if (!surface || width < 60) return;
    const dims = surface.variables.length;
    const height = Math.round(Math.min(460, Math.max(220, width * (dims === 1 ? 0.62 : 0.8))));
    const context = sharpCanvas(this.canvas, width, height);
    const xRange = [surface.x[0], surface.x[surface.x.length - 1]];
    const yRange = dims === 1 ? curveRange(surface.values) : [surface.y[0], surface.y[surface.y.length - 1]];
    const frame = new Frame(width, height, xRange, yRange);
    this.frame = frame;
    context.fillStyle = "#fff";
    context.fillRect(0, 0, width, height);
    clipped(context, frame, () => {
      if (dims === 1) this.curve(context, frame, surface);
      else this.contours.draw(context, frame, surface);
      for (const [i, run] of (scene.runs || []).entries()) {
        if (i === scene.best || run.status === "skipped") continue; // (no value to draw at)
        this.path(context, frame, run.points, scene.index, dims, COLOURS.restart, false);
      }
      if (scene.compare) this.path(context, frame, scene.compare.points, scene.index, dims, COLOURS.compare, true, scene.compare.gradients, scene.compare.status);
      if (scene.main) this.path(context, frame, scene.main.points, scene.index, dims, COLOURS.main, true, scene.main.gradients, scene.main.status);
      if (scene.runs && scene.runs.length && scene.main) this.best(context, frame, scene.main.points, scene.index);
    });
    axes(context, frame, "x", dims === 1 ? "f(x)" : "y");
  }

  curve(context, frame, surface) {
    const list = [];
    surface.x.forEach((x, i) => {
      const v = surface.values[i];
      if (v !== null) list.push([frame.px(x), frame.py(v)]);
    });
    context.strokeStyle = COLOURS.grid;
    context.lineWidth = 1;
    if (frame.yRange[0] < 0 && frame.yRange[1] > 0) {
      context.beginPath();
      context.moveTo(frame.left, frame.py(0));
      context.lineTo(frame.left + frame.innerWidth, frame.py(0));
      context.stroke();
    }
    polyline(context, list, COLOURS.curve, 2.5);
  }

  // One path up to step `index`: the points so far, the step just taken as an arrow, and
  // for the main paths the current point with its tangent (1-D) or downhill arrow (2-D).
  path(context, frame, points, index, dims, colour, main, gradients, status) {
    const upto = Math.min(index, points.length - 1);
    const list = pixels(frame, points, upto);
    polyline(context, list, colour, main ? 1.5 : 1, main ? 0.55 : 0.45);
    // Dots on the latest points only: on a long path they would merge into a smear.
    for (const [x, y] of list.slice(-60, -1)) dot(context, x, y, main ? 3 : 2, colour, colour);
    if (upto >= 1) arrow(context, ...list[upto - 1], ...list[upto], colour, main ? 2.5 : 1.5);
    const [x, y] = list[upto];
    // (where a 2-D run converged the gradient is ~0 and its direction is noise)
    const settled = dims === 2 && upto === points.length - 1 && index >= upto && status === "converged";
    if (main && gradients && gradients[upto] && !settled) this.slope(context, frame, points[upto], gradients[upto], dims, colour);
    dot(context, x, y, main ? 6 : 3.5, colour);
    if (main) this.offPlot(context, frame, x, y, colour);
  }

  // A point beyond the view (a diverging run) is marked where it left: an arrow at the
  // edge, pointing its way.
  offPlot(context, frame, x, y, colour) {
    const right = frame.left + frame.innerWidth;
    const bottom = frame.top + frame.innerHeight;
    if (x >= frame.left && x <= right && y >= frame.top && y <= bottom) return;
    const ex = Math.min(right - 14, Math.max(frame.left + 14, x));
    const ey = Math.min(bottom - 14, Math.max(frame.top + 14, y));
    const length = Math.hypot(x - ex, y - ey) || 1;
    arrow(context, ex - ((x - ex) / length) * 22, ey - ((y - ey) / length) * 22, ex, ey, colour, 3);
    context.fillStyle = colour;
    context.font = "bold 12px system-ui, sans-serif";
    context.textAlign = ex > frame.left + frame.innerWidth / 2 ? "right" : "left";
    context.textBaseline = ey > frame.top + frame.innerHeight / 2 ? "bottom" : "top";
    const tx = ex + (context.textAlign === "right" ? -16 : 16);
    const ty = ey + (context.textBaseline === "bottom" ? -8 : 8);
    context.fillText("off the plot", tx, ty);
  }

  // 1-D: the tangent line through the current point (its slope is the server's gradient).
  // 2-D: an arrow pointing downhill (against the gradient), a fixed length on screen.
  slope(context, frame, point, gradient, dims, colour) {
    if (gradient.some((g) => g === null)) return;
    context.setLineDash([5, 4]);
    if (dims === 1) {
      const half = (frame.xRange[1] - frame.xRange[0]) * 0.12;
      const [x0, f0] = point;
      const g = gradient[0];
      context.strokeStyle = colour;
      context.lineWidth = 1.5;
      context.beginPath();
      context.moveTo(frame.px(x0 - half), frame.py(f0 - g * half));
      context.lineTo(frame.px(x0 + half), frame.py(f0 + g * half));
      context.stroke();
      context.setLineDash([]);
      return;
    }
    context.setLineDash([]);
    // Downhill on screen: pixels grow rightwards with x and downwards with -y.
    const sx = -gradient[0] * (frame.innerWidth / (frame.xRange[1] - frame.xRange[0]));
    const sy = gradient[1] * (frame.innerHeight / (frame.yRange[1] - frame.yRange[0]));
    const length = Math.hypot(sx, sy);
    if (!(length > 0)) return;
    const x = frame.px(point[0]);
    const y = frame.py(point[1]);
    arrow(context, x, y, x + (sx / length) * 42, y + (sy / length) * 42, "#111", 2);
  }

  best(context, frame, points, index) {
    const p = points[Math.min(index, points.length - 1)];
    const x = frame.px(p[0]);
    const y = frame.py(p[1]);
    context.strokeStyle = COLOURS.best;
    context.lineWidth = 2.5;
    context.beginPath();
    context.arc(x, y, 11, 0, 2 * Math.PI);
    context.stroke();
    context.fillStyle = COLOURS.best;
    context.font = "bold 12px system-ui, sans-serif";
    context.textAlign = "left";
    context.textBaseline = "bottom";
    context.fillText("best", x + 12, y - 6);
  }
}

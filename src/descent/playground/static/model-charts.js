// The model lab's pictures, drawn from what the server sent: the heatmap of the model's
// output over the data's box with the points on top, the loss chart, and the network.
// Nothing here computes a prediction or a loss; it maps numbers to pixels and colours.
import { el, fmt, sharpCanvas } from "./common.js";

// The two classes: orange for the first, blue for the second, a pale grey between.
const LOW = [245, 147, 34];
const MID = [232, 234, 235];
const HIGH = [8, 119, 189];

// t in [0, 1] -> [r, g, b] on the diverging scale orange - grey - blue.
export function diverging(t) {
  const s = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0.5));
  const [from, to, u] = s < 0.5 ? [LOW, MID, s * 2] : [MID, HIGH, (s - 0.5) * 2];
  return from.map((c, i) => Math.round(c + (to[i] - c) * u));
}

const css = (rgb) => `rgb(${rgb[0]}, ${rgb[1]}, ${rgb[2]})`;

// How a value becomes a position on the colour scale: the probability of the second class
// as it is, a regression value across the targets' range.
export function colourScale(task, targets) {
  if (task === "classification") return { lo: 0, hi: 1, at: (v) => v };
  let lo = Math.min(...targets);
  let hi = Math.max(...targets);
  if (!(hi > lo)) { lo -= 1; hi += 1; }
  return { lo, hi, at: (v) => (v - lo) / (hi - lo) };
}

// Where the heatmap's box lands on the canvas, and back.
export function frame(grid, size) {
  const [x0, x1] = grid.x;
  const [y0, y1] = grid.y;
  return {
    px: (x) => ((x - x0) / (x1 - x0)) * size,
    py: (y) => size - ((y - y0) / (y1 - y0)) * size,
  };
}

// The heatmap: grid.values (rows by y from low to high) stretched over a square canvas of
// `size` CSS pixels, then the test points (outlined) and the train points (filled).
// `view` = {task, classes, train, test, scale, selected}.
export function drawHeatmap(canvas, grid, view, size) {
  const context = sharpCanvas(canvas, size, size);
  const n = grid.size;
  const cells = document.createElement("canvas");
  cells.width = n;
  cells.height = n;
  const cellContext = cells.getContext("2d");
  const image = cellContext.createImageData(n, n);
  for (let row = 0; row < n; row += 1) {
    const values = grid.values[row] || [];
    for (let col = 0; col < n; col += 1) {
      const value = values[col];
      const rgb = diverging(value === null || value === undefined ? NaN : view.scale.at(value)); // null: not finite
      const at = ((n - 1 - row) * n + col) * 4; // the first row is the lowest y: draw it at the bottom
      image.data.set([rgb[0], rgb[1], rgb[2], 255], at);
    }
  }
  cellContext.putImageData(image, 0, 0);
  context.imageSmoothingEnabled = true;
  // The values are at the grid's nodes, ends included: each cell is centred on its node.
  const half = size / Math.max(1, n - 1) / 2;
  context.drawImage(cells, -half, -half, size + 2 * half, size + 2 * half);
  const place = frame(grid, size);
  const second = secondClass(view.classes, [...view.train.y, ...view.test.y]);
  const colour = (y) => (view.task === "classification" ? (second(y) ? HIGH : LOW) : diverging(view.scale.at(y)));
  const dot = (x, y, radius) => {
    context.beginPath();
    context.arc(place.px(x[0]), place.py(x[1]), radius, 0, 2 * Math.PI);
  };
  // A regression point's colour is the heatmap's where the model is right: a dark rim keeps
  // it visible there.
  const rim = view.task === "classification" ? null : "rgba(29, 35, 48, 0.75)";
  context.lineWidth = 1.5;
  view.test.X.forEach((x, i) => {
    dot(x, view.test.y[i], 3.5);
    context.fillStyle = "rgba(255, 255, 255, 0.85)";
    context.fill();
    context.strokeStyle = rim || css(colour(view.test.y[i]));
    context.stroke();
    if (rim) {
      dot(x, view.test.y[i], 2);
      context.fillStyle = css(colour(view.test.y[i]));
      context.fill();
    }
  });
  view.train.X.forEach((x, i) => {
    dot(x, view.train.y[i], 3.5);
    context.fillStyle = css(colour(view.train.y[i]));
    context.fill();
    context.strokeStyle = rim || "rgba(255, 255, 255, 0.9)";
    context.stroke();
  });
  if (view.selected !== null && view.selected !== undefined && view.train.X[view.selected]) {
    dot(view.train.X[view.selected], 0, 8);
    context.lineWidth = 2.5;
    context.strokeStyle = "#1d2330";
    context.stroke();
  }
}

// Whether a target is the second class: targets come as class indices (0, 1) or as the
// class labels themselves.
export function secondClass(classes, targets) {
  const indices = targets.every((y) => y === 0 || y === 1);
  return indices ? (y) => y === 1 : (y) => y === classes[1];
}

// The train point drawn nearest to (x, y) canvas pixels, within `reach` pixels, or null.
export function nearestPoint(grid, train, size, x, y, reach = 12) {
  const place = frame(grid, size);
  let best = null;
  let bestDistance = reach * reach;
  train.X.forEach((point, i) => {
    const dx = place.px(point[0]) - x;
    const dy = place.py(point[1]) - y;
    if (dx * dx + dy * dy <= bestDistance) { best = i; bestDistance = dx * dx + dy * dy; }
  });
  return best;
}

// A horizontal bar of the colour scale with its two ends labelled.
const KINDS = { probability: "probability of", sigmoid_score: "sigmoid of the score toward" };

export function legend(scale, task, classes, kind) {
  const bar = el("canvas", { class: "model-scale", width: 200, height: 10, "aria-hidden": "true" });
  const context = bar.getContext("2d");
  for (let i = 0; i < 200; i += 1) {
    context.fillStyle = css(diverging(i / 199));
    context.fillRect(i, 0, 1, 10);
  }
  const ends = task === "classification"
    ? [`class ${classes[0]}`, `class ${classes[1]}`]
    : [fmt(scale.lo), fmt(scale.hi)];
  const what = task === "classification"
    ? `colour: the ${KINDS[kind] || "probability of"} class ${classes[1]}`
    : "colour: the prediction";
  return el("div", { class: "model-legend" },
    el("span", {}, ends[0]), bar, el("span", {}, ends[1]), el("span", { class: "hint" }, what));
}

// The train and test loss over the epochs: `history` = [{epoch, train_loss, test_loss}].
const CHART = { width: 360, height: 170, left: 46, right: 8, top: 8, bottom: 24 };

export function drawLossChart(svg, history, logScale) {
  svg.replaceChildren();
  svg.setAttribute("viewBox", `0 0 ${CHART.width} ${CHART.height}`);
  const shown = thin(history, 600);
  const usable = (v) => Number.isFinite(v) && (!logScale || v > 0);
  const values = shown.flatMap((h) => [h.train_loss, h.test_loss]).filter(usable);
  const plotW = CHART.width - CHART.left - CHART.right;
  const plotH = CHART.height - CHART.top - CHART.bottom;
  svg.append(el("rect", { x: CHART.left, y: CHART.top, width: plotW, height: plotH, class: "chart-box" }));
  if (values.length === 0) return;
  const transform = logScale ? Math.log10 : (v) => v;
  let lo = transform(Math.min(...values));
  let hi = transform(Math.max(...values));
  if (!logScale) lo = Math.min(lo, 0);
  if (!(hi > lo)) hi = lo + 1;
  const first = shown[0].epoch;
  const last = Math.max(shown[shown.length - 1].epoch, first + 1);
  const px = (epoch) => CHART.left + ((epoch - first) / (last - first)) * plotW;
  const py = (v) => CHART.top + plotH - ((transform(v) - lo) / (hi - lo)) * plotH;
  for (const [key, name] of [["train_loss", "chart-train"], ["test_loss", "chart-test"]]) {
    const points = shown.filter((h) => usable(h[key])).map((h) => `${px(h.epoch).toFixed(1)},${py(h[key]).toFixed(1)}`);
    if (points.length) svg.append(el("polyline", { points: points.join(" "), class: name }));
  }
  const label = (v) => fmt(logScale ? 10 ** v : v, 3);
  svg.append(
    el("text", { x: CHART.left - 4, y: CHART.top + 9, class: "chart-tick end" }, label(hi)),
    el("text", { x: CHART.left - 4, y: CHART.top + plotH, class: "chart-tick end" }, label(lo)),
    el("text", { x: CHART.left, y: CHART.height - 6, class: "chart-tick" }, `epoch ${first}`),
    el("text", { x: CHART.width - CHART.right, y: CHART.height - 6, class: "chart-tick end" }, String(last)),
  );
}

// At most `limit` entries, evenly spaced, always keeping the last.
function thin(history, limit) {
  if (history.length <= limit) return history;
  const stride = history.length / limit;
  const kept = [];
  for (let i = 0; i < limit; i += 1) kept.push(history[Math.floor(i * stride)]);
  kept.push(history[history.length - 1]);
  return kept;
}

// The network: one column of nodes per layer (input features by name, hidden neurons,
// the output), an edge per weight whose width shows |weight| and colour its sign.
const NET = { width: 360, height: 220, pad: 26, radius: 9 };

export function drawNetwork(svg, network) {
  const sizes = sizesOf(network.layers);
  const inputs = network.layers.filter((layer) => typeof layer === "string");
  const key = JSON.stringify(network.layers);
  if (svg.dataset.layers !== key) build(svg, sizes, inputs, key);
  const all = network.weights.flat(2).map(Math.abs).filter(Number.isFinite);
  const biggest = Math.max(1e-12, ...all);
  network.weights.forEach((matrix, layer) => {
    matrix.forEach((row, from) => row.forEach((weight, to) => {
      const edge = svg.querySelector(`[data-edge="${layer}-${from}-${to}"]`);
      if (!edge) return;
      edge.setAttribute("stroke-width", (0.4 + 4.6 * Math.abs(weight) / biggest).toFixed(2));
      edge.setAttribute("class", weight >= 0 ? "edge positive" : "edge negative");
      edge.firstChild.textContent = `weight ${fmt(weight)}`;
    }));
  });
  (network.biases || []).forEach((biases, layer) => biases.forEach((bias, node) => {
    const circle = svg.querySelector(`[data-node="${layer + 1}-${node}"]`);
    if (!circle) return;
    circle.setAttribute("class", bias >= 0 ? "node positive" : "node negative");
    circle.firstChild.textContent = `bias ${fmt(bias)}`;
  }));
}

// ["x1", "x2", 4, 2, 1] -> [2, 4, 2, 1]
export function sizesOf(layers) {
  const inputs = layers.filter((layer) => typeof layer === "string").length;
  return [inputs, ...layers.filter((layer) => typeof layer === "number")];
}

function build(svg, sizes, inputs, key) {
  svg.replaceChildren();
  svg.dataset.layers = key;
  svg.setAttribute("viewBox", `0 0 ${NET.width} ${NET.height}`);
  const left = NET.pad + 34; // room for the input features' names
  const columnX = (layer) => left + (layer / Math.max(1, sizes.length - 1)) * (NET.width - left - NET.pad);
  const nodeY = (count, i) => NET.pad + ((i + 0.5) / count) * (NET.height - 2 * NET.pad);
  const edges = el("g", {});
  const nodes = el("g", {});
  sizes.forEach((count, layer) => {
    for (let i = 0; i < count; i += 1) {
      const x = columnX(layer);
      const y = nodeY(count, i);
      if (layer + 1 < sizes.length) {
        for (let j = 0; j < sizes[layer + 1]; j += 1) {
          edges.append(el("line", { x1: x, y1: y, x2: columnX(layer + 1), y2: nodeY(sizes[layer + 1], j),
            "data-edge": `${layer}-${i}-${j}`, class: "edge" }, el("title", {}, "")));
        }
      }
      nodes.append(el("circle", { cx: x, cy: y, r: NET.radius, "data-node": `${layer}-${i}`,
        class: layer === 0 ? "node input" : "node" }, el("title", {}, layer === 0 ? inputs[i] : "")));
      if (layer === 0) nodes.append(el("text", { x: x - NET.radius - 4, y: y + 4, class: "net-label end" }, inputs[i]));
    }
  });
  svg.append(edges, nodes);
}

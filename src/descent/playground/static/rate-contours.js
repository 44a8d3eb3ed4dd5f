// The 2-D plot's filled contours: each band of the surface's values (from /api/surface) in
// its own colour, deep blue in the valleys to pale at the top. The image is drawn once per
// surface and size and kept.
const BANDS = 14;
const LOW = [31, 64, 122]; // the deepest band
const HIGH = [250, 246, 226]; // the highest band

// The filled levels of a 2-D surface, one canvas pixel at a time: the grid value there
// (bilinear between the four nearest grid values the server sent), coloured by which of
// BANDS quantile levels it falls in, so every function shows its valleys.
function contourImage(surface, width, height) {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d");
  const image = context.createImageData(width, height);
  const rows = surface.values;
  const ny = rows.length;
  const nx = rows[0].length;
  const finite = rows.flat().filter((v) => v !== null).sort((a, b) => a - b);
  const levels = Array.from({ length: BANDS - 1 }, (_, i) => finite[Math.floor(((i + 1) / BANDS) * (finite.length - 1))]);
  const band = (value) => {
    let low = 0;
    let high = levels.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (value > levels[mid]) low = mid + 1; else high = mid;
    }
    return low;
  };
  const colours = Array.from({ length: BANDS }, (_, b) => {
    const t = Math.pow(b / (BANDS - 1), 0.8);
    return LOW.map((c, k) => Math.round(c + (HIGH[k] - c) * t));
  });
  for (let j = 0; j < height; j += 1) {
    const gy = (1 - (j + 0.5) / height) * (ny - 1);
    const i0 = Math.min(ny - 2, Math.floor(gy));
    const fy = gy - i0;
    for (let i = 0; i < width; i += 1) {
      const gx = ((i + 0.5) / width) * (nx - 1);
      const k0 = Math.min(nx - 2, Math.floor(gx));
      const fx = gx - k0;
      const a = rows[i0][k0]; const b = rows[i0][k0 + 1];
      const c = rows[i0 + 1][k0]; const d = rows[i0 + 1][k0 + 1];
      const at = 4 * (j * width + i);
      if (a === null || b === null || c === null || d === null) {
        image.data[at + 3] = 0;
        continue;
      }
      const value = (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy;
      const colour = colours[band(value)];
      image.data[at] = colour[0];
      image.data[at + 1] = colour[1];
      image.data[at + 2] = colour[2];
      image.data[at + 3] = 255;
    }
  }
  context.putImageData(image, 0, 0);
  return canvas;
}

export class Contours {
  constructor() {
    this.cache = { key: null, surface: null, image: null };
  }

  // Fills the frame's inner box with `surface`'s contours.
  draw(context, frame, surface) {
    const width = Math.round(frame.innerWidth);
    const height = Math.round(frame.innerHeight);
    const key = `${width}x${height}`;
    if (this.cache.key !== key || this.cache.surface !== surface) {
      this.cache = { key, surface, image: contourImage(surface, width, height) };
    }
    context.drawImage(this.cache.image, frame.left, frame.top, frame.innerWidth, frame.innerHeight);
  }
}

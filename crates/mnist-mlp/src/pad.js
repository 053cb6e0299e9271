// The drawing pad (pad.rs): draw a digit and watch the model's probabilities move, with no kernel
// and no network. Runs once per pad on the element that holds this script, so every pad on a page
// keeps its own state. It repeats `mnist_mlp::image::prepare` step by step, in f32 arithmetic
// (Math.fround after every operation), so the page's 28×28 input matches the Rust code's on the
// same drawing, then runs the dense layers of the model whose f16 weights travel beside it.
(function (root) {
  "use strict";
  const f32 = Math.fround;
  const SIDE = 28; // MNIST's field
  const BOX = 20; // the longest side of the digit in it
  const PEN = 18; // pen width in canvas pixels: a stroke of about 2 MNIST pixels once shrunk

  const canvas = root.querySelector('[data-role="canvas"]');
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const preview = root.querySelector('[data-role="input"]');
  const previewContext = preview.getContext("2d");
  const predictionText = root.querySelector('[data-role="prediction"]');
  const confidenceText = root.querySelector('[data-role="confidence"]');
  const probabilitiesText = root.querySelector('[data-role="probabilities"]');
  const layers = decodeLayers(JSON.parse(root.querySelector('[data-role="model"]').textContent));
  const bars = makeBars(root.querySelector('[data-role="bars"]'));

  // ---- the weights: IEEE half floats, little-endian, base64; every f16 is exact in an f32 ----

  function halfToFloat(bits) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >> 10) & 0x1f;
    const mantissa = bits & 0x3ff;
    if (exponent === 0) return sign * mantissa * 2 ** -24; // zero and subnormals
    if (exponent === 31) return mantissa ? NaN : sign * Infinity;
    return sign * (1024 + mantissa) * 2 ** (exponent - 25);
  }

  function decodeLayers(model) {
    const text = atob(model.f16);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    const words = new DataView(bytes.buffer);
    let offset = 0;
    const take = (count) => {
      const values = new Float32Array(count);
      for (let i = 0; i < count; i++) values[i] = halfToFloat(words.getUint16(2 * (offset + i), true));
      offset += count;
      return values;
    };
    const decoded = model.layers.map(([outputs, inputs]) => ({ outputs, inputs, weight: take(outputs * inputs), bias: take(outputs) }));
    if (2 * offset !== bytes.length) throw new Error(`drawing pad: ${bytes.length} bytes of weights for ${offset} parameters`);
    return decoded;
  }

  // ---- the model: dense layers, ReLU between them, logits out; softmax to read them ----

  function probabilities(input) {
    let x = input;
    layers.forEach((layer, index) => {
      const y = new Float32Array(layer.outputs);
      for (let o = 0; o < layer.outputs; o++) {
        let sum = layer.bias[o];
        const row = o * layer.inputs;
        for (let i = 0; i < layer.inputs; i++) sum += layer.weight[row + i] * x[i];
        y[o] = index < layers.length - 1 ? Math.max(sum, 0) : sum;
      }
      x = y;
    });
    const top = Math.max(...x);
    const exps = Array.from(x, (v) => Math.exp(v - top));
    const total = exps.reduce((a, b) => a + b, 0);
    return exps.map((v) => v / total);
  }

  // ---- the preparation of image.rs, stage by stage; a picture is {width, height, data} ----

  const clamp = (v, low, high) => (v < low ? low : v > high ? high : v);
  // Rust's f32::round: halves away from zero.
  const round = (v) => Math.sign(v) * Math.round(Math.abs(v));
  const picture = (width, height) => ({ width, height, data: new Float32Array(width * height) });

  // Returns the 28×28 field, or null when there is no ink (the Rust code's "no ink found").
  function prepare(rgba, width, height) {
    const ink = extractInk(toGrey(rgba, width, height));
    if (ink === null) return null;
    const cropped = cropToInk(ink);
    return cropped === null ? null : centreOfMassField(scaleToBox(cropped));
  }

  const [RED, GREEN, BLUE] = [f32(0.299), f32(0.587), f32(0.114)]; // Rec. 601 luma

  function toGrey(rgba, width, height) {
    const count = width * height;
    const grey = picture(width, height);
    const alpha = new Float32Array(count);
    let weight = 0;
    let sum = 0;
    for (let i = 0; i < count; i++) {
      const r = f32(rgba[4 * i] / 255);
      const g = f32(rgba[4 * i + 1] / 255);
      const b = f32(rgba[4 * i + 2] / 255);
      const a = f32(rgba[4 * i + 3] / 255);
      const luma = f32(f32(f32(RED * r) + f32(GREEN * g)) + f32(BLUE * b));
      grey.data[i] = luma;
      alpha[i] = a;
      weight += a;
      sum += f32(a * luma);
    }
    // Transparent parts go on a background that contrasts with the ink, as in image.rs.
    const partlyTransparent = weight < 0.98 * count;
    const background = partlyTransparent && sum / Math.max(weight, 1e-9) > 0.5 ? 0 : 1;
    for (let i = 0; i < count; i++) {
      const a = clamp(alpha[i], 0, 1);
      grey.data[i] = clamp(f32(f32(a * grey.data[i]) + f32(f32(1 - a) * background)), 0, 1);
    }
    return grey;
  }

  // The value a sort would put at `index`, found without sorting (quickselect).
  function select(values, index) {
    let [low, high] = [0, values.length - 1];
    while (low < high) {
      const pivot = values[(low + high) >> 1];
      let [i, j] = [low, high];
      while (i <= j) {
        while (values[i] < pivot) i++;
        while (values[j] > pivot) j--;
        if (i <= j) {
          [values[i], values[j]] = [values[j], values[i]];
          i++;
          j--;
        }
      }
      if (index <= j) high = j;
      else if (index >= i) low = i;
      else break;
    }
    return values[index];
  }

  function extractInk(grey) {
    const paper = select(Float32Array.from(grey.data), grey.data.length >> 1); // what most pixels are
    const darkOnLight = paper > 0.5;
    const inkOf = (v) => (darkOnLight ? f32(1 - v) : v);
    const paperInk = inkOf(paper);
    let strongest = 0;
    for (const v of grey.data) strongest = Math.max(strongest, inkOf(v));
    const contrast = f32(strongest - paperInk);
    if (contrast < f32(0.15)) return null;
    const floor = f32(paperInk + f32(f32(0.2) * contrast));
    const range = f32(strongest - floor);
    const ink = picture(grey.width, grey.height);
    grey.data.forEach((v, i) => {
      ink.data[i] = clamp(f32(f32(inkOf(v) - floor) / range), 0, 1);
    });
    return ink;
  }

  function cropToInk(ink) {
    let [x0, y0, x1, y1] = [Infinity, Infinity, -1, -1];
    const threshold = f32(0.05);
    for (let y = 0; y < ink.height; y++) {
      for (let x = 0; x < ink.width; x++) {
        if (ink.data[y * ink.width + x] > threshold) {
          [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
        }
      }
    }
    if (x1 < 0) return null;
    const cropped = picture(x1 - x0 + 1, y1 - y0 + 1);
    for (let y = 0; y < cropped.height; y++) {
      const start = (y0 + y) * ink.width + x0;
      cropped.data.set(ink.data.subarray(start, start + cropped.width), y * cropped.width);
    }
    return cropped;
  }

  function scaleToBox(cropped) {
    const { width, height } = cropped;
    const scale = f32(BOX / Math.max(width, height));
    const newWidth = Math.max(1, round(f32(width * scale)));
    const newHeight = Math.max(1, round(f32(height * scale)));
    const scaled = resizeLanczos3(cropped, newWidth, newHeight);
    let strongest = 0;
    for (const v of scaled.data) strongest = Math.max(strongest, v);
    strongest = Math.max(strongest, f32(1e-6));
    scaled.data.forEach((v, i) => {
      scaled.data[i] = clamp(f32(v / strongest), 0, 1);
    });
    return scaled;
  }

  // `image::imageops::resize` with `FilterType::Lanczos3`: columns first, then rows (clamped).
  function resizeLanczos3(source, width, height) {
    if (width === source.width && height === source.height) {
      return { width, height, data: Float32Array.from(source.data) };
    }
    const columns = picture(source.width, height);
    resample(source.height, height, (out, taps) => {
      for (let x = 0; x < source.width; x++) {
        let t = 0;
        for (const [i, w] of taps) t = f32(t + f32(source.data[i * source.width + x] * w));
        columns.data[out * source.width + x] = t;
      }
    });
    const result = picture(width, height);
    resample(source.width, width, (out, taps) => {
      for (let y = 0; y < height; y++) {
        let t = 0;
        for (const [i, w] of taps) t = f32(t + f32(columns.data[y * source.width + i] * w));
        result.data[y * width + out] = clamp(t, 0, 1);
      }
    });
    return result;
  }

  // For each output index along one axis, the input indices it reads and their normalised weights.
  function resample(size, newSize, apply) {
    const ratio = f32(size / newSize);
    const stretch = ratio < 1 ? 1 : ratio;
    const support = f32(3 * stretch);
    for (let out = 0; out < newSize; out++) {
      const centre = f32(f32(out + 0.5) * ratio);
      const left = clamp(Math.floor(f32(centre - support)), 0, size - 1);
      const right = clamp(Math.ceil(f32(centre + support)), left + 1, size);
      const pixelCentre = f32(centre - 0.5);
      const taps = [];
      let sum = 0;
      for (let i = left; i < right; i++) {
        const w = lanczos3(f32(f32(i - pixelCentre) / stretch));
        taps.push([i, w]);
        sum = f32(sum + w);
      }
      apply(out, taps.map(([i, w]) => [i, f32(w / sum)]));
    }
  }

  function sinc(t) {
    if (t === 0) return 1;
    const a = f32(t * f32(Math.PI));
    return f32(f32(Math.sin(a)) / a);
  }

  function lanczos3(x) {
    return Math.abs(x) < 3 ? f32(sinc(x) * sinc(f32(x / 3))) : 0;
  }

  function centreOfMassField(scaled) {
    let [mass, mx, my] = [0, 0, 0];
    for (let y = 0; y < scaled.height; y++) {
      for (let x = 0; x < scaled.width; x++) {
        const p = scaled.data[y * scaled.width + x];
        mass = f32(mass + p);
        mx = f32(mx + f32(p * (x + 0.5)));
        my = f32(my + f32(p * (y + 0.5)));
      }
    }
    // Shift the centre of mass to the centre, keeping the whole digit inside (a NaN casts to 0 in Rust).
    const limit = (c, size) => clamp(round(f32(SIDE / 2 - c)), 0, SIDE - size) || 0;
    const left = limit(f32(mx / mass), scaled.width);
    const top = limit(f32(my / mass), scaled.height);
    const field = new Float32Array(SIDE * SIDE);
    for (let y = 0; y < scaled.height; y++) {
      field.set(scaled.data.subarray(y * scaled.width, (y + 1) * scaled.width), (top + y) * SIDE + left);
    }
    return field;
  }

  // ---- the page: drawing, the preview, the bars ----

  function makeBars(holder) {
    return Array.from({ length: 10 }, (_, digit) => {
      const column = document.createElement("div");
      column.style.cssText = "display:flex;flex-direction:column;align-items:center;width:22px";
      const track = document.createElement("div");
      track.style.cssText = "position:relative;width:16px;height:150px;background:#eee";
      const fill = document.createElement("div");
      fill.style.cssText = "position:absolute;bottom:0;left:0;width:100%;height:0;background:#1f77b4";
      const label = document.createElement("div");
      label.textContent = String(digit);
      track.appendChild(fill);
      column.append(track, label);
      holder.appendChild(column);
      return fill;
    });
  }

  function clear() {
    context.save();
    context.fillStyle = "#fff"; // white paper, black ink: a drawing that any paint program makes
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.restore();
    update();
  }

  function update() {
    const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
    const field = prepare(pixels, canvas.width, canvas.height);
    const shown = previewContext.createImageData(SIDE, SIDE);
    if (field === null) {
      predictionText.textContent = "draw a digit";
      confidenceText.textContent = "";
      probabilitiesText.textContent = "[]";
      preview.dataset.values = "[]";
      bars.forEach((fill) => (fill.style.height = "0"));
    } else {
      const p = probabilities(field);
      const digit = p.indexOf(Math.max(...p));
      predictionText.textContent = String(digit);
      confidenceText.textContent = `${(100 * p[digit]).toFixed(1)} %`;
      probabilitiesText.textContent = JSON.stringify(p);
      preview.dataset.values = JSON.stringify(Array.from(field));
      bars.forEach((fill, d) => {
        fill.style.height = `${(100 * p[d]).toFixed(2)}%`;
        fill.style.background = d === digit ? "#ff7f0e" : "#1f77b4";
      });
      field.forEach((v, i) => {
        shown.data.fill(Math.round(255 * v), 4 * i, 4 * i + 3);
      });
    }
    for (let i = 3; i < shown.data.length; i += 4) shown.data[i] = 255;
    previewContext.putImageData(shown, 0, 0);
  }

  // Live while drawing, at most once a frame; exactly once more when the stroke ends.
  let pending = false;
  function updateSoon() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      update();
    });
  }

  function at(event) {
    const box = canvas.getBoundingClientRect();
    return [((event.clientX - box.left) * canvas.width) / box.width, ((event.clientY - box.top) * canvas.height) / box.height];
  }

  let last = null;
  function strokeTo(point) {
    context.beginPath();
    if (point[0] === last[0] && point[1] === last[1]) {
      context.arc(...point, PEN / 2, 0, 2 * Math.PI); // a line of length zero would draw nothing
      context.fill();
    } else {
      context.moveTo(...last);
      context.lineTo(...point);
      context.stroke();
    }
    last = point;
  }

  context.lineCap = "round";
  context.lineJoin = "round";
  context.lineWidth = PEN;
  context.strokeStyle = "#000";
  context.fillStyle = "#000";
  canvas.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    last = at(event);
    strokeTo(last); // a dot where the pen touched
    updateSoon();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (last === null) return;
    strokeTo(at(event));
    updateSoon();
  });
  const end = () => {
    if (last === null) return;
    last = null;
    update();
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  root.querySelector('[data-role="clear"]').addEventListener("click", clear);
  root.querySelector('[data-role="download"]').addEventListener("click", () => {
    const link = document.createElement("a");
    link.download = "digit.png";
    link.href = canvas.toDataURL("image/png");
    link.click();
  });
  clear();
})(document.currentScript.parentElement);

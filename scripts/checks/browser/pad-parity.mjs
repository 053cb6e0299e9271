// The drawing pad in a real browser (headless Chromium, network off): traces MNIST test digits onto
// a pad with mouse events, reads the page's 28×28 input and prediction, saves each drawing with the
// pad's Download button, and compares with the Rust code's `prepare` + `predict` on those PNGs.
// Also: an empty pad says "draw a digit", a dot and a stroke off the edge throw nothing, two pads
// on one page keep their own state, and the console stays free of errors.
//
//   node pad-parity.mjs --page FILE.html --model DIR --helper BINARY --out DIR
//                       [--count N] [--shot FILE.png] [--same-weights-as OTHER.html]
//
// --model is the Rust model to compare with; --same-weights-as checks that the page's pad carries
// the same weights as OTHER's (a notebook's model against the helper's, both trained with seed 42).
// Prints the figures and writes them to OUT/summary.json; exits 1 when a check fails.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { chromium } from "playwright-core";

const AGREEMENT = 0.99; // predictions that must agree with the Rust code
const PIXEL_DIFFERENCE = 0.05; // mean absolute difference allowed between the 28×28 inputs
const CELL = 10; // canvas pixels per MNIST pixel on the 280-pixel canvas

const options = parseOptions(process.argv.slice(2), { count: "200" });
const failures = [];
function check(condition, message) {
  console.log(`${condition ? "ok  " : "FAIL"}  ${message}`);
  if (!condition) failures.push(message);
}

function parseOptions(args, defaults) {
  const parsed = { ...defaults };
  for (let i = 0; i < args.length; i += 2) {
    if (!args[i].startsWith("--") || args[i + 1] === undefined) throw new Error(`bad argument ${args[i]}; see the header of ${process.argv[1]}`);
    parsed[args[i].slice(2)] = args[i + 1];
  }
  for (const required of ["page", "model", "helper", "out"]) {
    if (!parsed[required]) throw new Error(`--${required} is required; see the header of ${process.argv[1]}`);
  }
  return parsed;
}

// The first `count` MNIST test digits and their labels, from the bundled IDX files.
function testDigits(count) {
  const dir = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../../data/mnist");
  const images = zlib.gunzipSync(fs.readFileSync(path.join(dir, "t10k-images-idx3-ubyte.gz")));
  const labels = zlib.gunzipSync(fs.readFileSync(path.join(dir, "t10k-labels-idx1-ubyte.gz")));
  return Array.from({ length: count }, (_, n) => ({ pixels: images.subarray(16 + 784 * n, 16 + 784 * (n + 1)), label: labels[8 + n] }));
}

// Strokes that trace a digit: one per run of inked pixels in each row, through the pixel centres.
// The pen (18 px) is wider than a row (10 px), so the rows join into the digit's shape.
function strokes(pixels) {
  const lines = [];
  for (let y = 0; y < 28; y++) {
    let start = -1;
    for (let x = 0; x <= 28; x++) {
      const inked = x < 28 && pixels[y * 28 + x] >= 128;
      if (inked && start < 0) start = x;
      if (!inked && start >= 0) {
        lines.push({ y: y * CELL + CELL / 2, from: start * CELL + CELL / 2, to: (x - 1) * CELL + CELL / 2, steps: Math.ceil((x - 1 - start) / 3) });
        start = -1;
      }
    }
  }
  return lines;
}

// Real mouse events from the browser's input pipeline (CDP's Input.dispatchMouseEvent), sent
// without waiting for each reply: the browser handles them in order, and answers each once its
// handlers have run, so when the last reply is in, the pad has seen the whole drawing.
async function draw(session, canvas, lines) {
  const box = await canvas.boundingBox();
  const scale = box.width / 280;
  const event = (type, x, y) =>
    session.send("Input.dispatchMouseEvent", { type, x: box.x + x * scale, y: box.y + y * scale, button: "left", buttons: type === "mouseReleased" ? 0 : 1, clickCount: 1 });
  const sent = [];
  for (const line of lines) {
    sent.push(event("mousePressed", line.from, line.y));
    for (let step = 1; step <= line.steps; step++) sent.push(event("mouseMoved", line.from + ((line.to - line.from) * step) / line.steps, line.y));
    sent.push(event("mouseReleased", line.to, line.y));
  }
  await Promise.all(sent);
}

// What the page shows: the prediction's text, the probabilities and the 28×28 input.
function readPad(pad) {
  return pad.evaluate((root) => ({
    prediction: root.querySelector('[data-role="prediction"]').textContent,
    probabilities: JSON.parse(root.querySelector('[data-role="probabilities"]').textContent),
    input: JSON.parse(root.querySelector('[data-role="input"]').dataset.values),
  }));
}

async function main() {
  fs.mkdirSync(options.out, { recursive: true });
  const started = Date.now();
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    // The network is off twice over: every request goes to a proxy that is not there, and the page is offline.
    args: ["--no-sandbox", "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"],
  });
  const context = await browser.newContext({ offline: true, viewport: { width: 1100, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  const problems = [];
  page.on("console", (message) => message.type() === "error" && problems.push(`console: ${message.text()}`));
  page.on("pageerror", (error) => problems.push(`exception: ${error.message}`));
  page.on("request", (request) => !/^(file|data|blob):/.test(request.url()) && problems.push(`request: ${request.url()}`));
  if (options["same-weights-as"]) {
    const weights = (file) => fs.readFileSync(file, "utf8").match(/<script[^>]*data-role="model"[^>]*>([^<]*)/)?.[1];
    const [mine, theirs] = [weights(options.page), weights(options["same-weights-as"])];
    check(mine !== undefined && mine === theirs, `the page's pad carries the weights of ${path.basename(options["same-weights-as"])}`);
  }
  await page.goto(`file://${path.resolve(options.page)}`);

  const session = await context.newCDPSession(page);
  const pads = await page.$$('[data-role="pad"]');
  check(pads.length >= 1, `${path.basename(options.page)}: ${pads.length} pad(s) on the page`);
  for (const pad of pads) {
    check((await readPad(pad)).prediction === "draw a digit", "an empty pad says \"draw a digit\"");
  }
  const first = pads[0];
  const canvasOf = (pad) => pad.$('[data-role="canvas"]');
  const press = (pad, role) => pad.$(`[data-role="${role}"]`).then((button) => button.click());
  await first.scrollIntoViewIfNeeded();

  // A single dot, then a stroke that leaves the canvas: a guess each, and nothing thrown.
  await draw(session, await canvasOf(first), [{ y: 140, from: 140, to: 140, steps: 0 }]);
  check(/^\d$/.test((await readPad(first)).prediction), "a single dot gets a digit");
  const box = await (await canvasOf(first)).boundingBox();
  await page.mouse.move(box.x + 200, box.y + 100);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width + 150, box.y - 80, { steps: 12 });
  await page.mouse.up();
  check(/^\d$/.test((await readPad(first)).prediction), "a stroke off the edge gets a digit");
  await press(first, "clear");
  check((await readPad(first)).prediction === "draw a digit", "Clear empties the pad");

  const digits = testDigits(Number(options.count));
  const drawings = [];
  for (const [n, digit] of digits.entries()) {
    // Two pads on the page: alternate, and check the other one keeps what it showed.
    const pad = pads[n % pads.length];
    const other = pads.length > 1 ? pads[(n + 1) % pads.length] : null;
    const before = other && (await readPad(other));
    await pad.scrollIntoViewIfNeeded();
    await press(pad, "clear");
    await draw(session, await canvasOf(pad), strokes(digit.pixels));
    const shown = await readPad(pad);
    if (other) {
      const after = await readPad(other);
      if (after.prediction !== before.prediction || JSON.stringify(after.input) !== JSON.stringify(before.input)) {
        problems.push(`drawing on one pad changed another (digit ${n})`);
      }
    }
    const file = path.resolve(options.out, `digit-${String(n).padStart(4, "0")}.png`);
    const [download] = await Promise.all([page.waitForEvent("download"), press(pad, "download")]);
    await download.saveAs(file);
    drawings.push({ file, label: digit.label, ...shown });
  }
  if (options.shot) {
    await first.scrollIntoViewIfNeeded();
    await press(first, "clear");
    await draw(session, await canvasOf(first), strokes(digits[0].pixels));
    await first.screenshot({ path: options.shot });
  }
  await browser.close();
  const browserSeconds = (Date.now() - started) / 1000;

  const lines = execFileSync(options.helper, ["predict", options.model, ...drawings.map((d) => d.file)], { encoding: "utf8", maxBuffer: 1 << 28 });
  const rust = new Map(lines.trim().split("\n").map((line) => JSON.parse(line)).map((r) => [path.resolve(r.file), r]));
  let agree = 0;
  let correct = 0;
  let differenceSum = 0;
  let worstDifference = 0;
  for (const drawing of drawings) {
    const reference = rust.get(drawing.file);
    if (String(reference.digit) === drawing.prediction) agree++;
    if (drawing.prediction === String(drawing.label)) correct++;
    const difference = drawing.input.reduce((sum, v, i) => sum + Math.abs(v - reference.input[i]), 0) / 784;
    differenceSum += difference;
    worstDifference = Math.max(worstDifference, difference);
  }
  const figures = {
    page: path.basename(options.page),
    pads: pads.length,
    drawings: drawings.length,
    agreement: agree / drawings.length,
    mean_abs_pixel_difference: differenceSum / drawings.length,
    worst_drawing_pixel_difference: worstDifference,
    page_accuracy_against_labels: correct / drawings.length,
    page_bytes: fs.statSync(options.page).size,
    browser_seconds: browserSeconds,
  };
  fs.writeFileSync(path.join(options.out, "summary.json"), JSON.stringify(figures, null, 2));
  console.log(JSON.stringify(figures));
  check(drawings.length === digits.length, `${drawings.length} digits traced and saved`);
  check(figures.agreement >= AGREEMENT, `page and Rust agree on ${(100 * figures.agreement).toFixed(2)} % of drawings (>= ${100 * AGREEMENT} %)`);
  check(figures.mean_abs_pixel_difference <= PIXEL_DIFFERENCE, `28×28 inputs differ by ${figures.mean_abs_pixel_difference.toExponential(2)} on average (<= ${PIXEL_DIFFERENCE})`);
  check(problems.length === 0, `no console errors, exceptions or requests to the network ${JSON.stringify(problems.slice(0, 5))}`);
  process.exit(failures.length ? 1 : 0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

// Browser benchmark: loads large dumps through the file input in headless Chromium and prints
// time to first paint, time to ready, peak renderer memory, and frame times of a scripted
// pan/zoom sequence. Run through `cargo xtask bench` (which builds dist/ and makes the dumps):
//   node tests/bench/browser.mjs DUMP [DUMP ...]
import fs from "node:fs";
import { execFileSync } from "node:child_process";
import { serve, launch, newPage } from "../browser/helpers.js";

const dumps = process.argv.slice(2);
if (dumps.length === 0) {
  console.error("usage: node tests/bench/browser.mjs DUMP [DUMP ...]");
  process.exit(2);
}

/** Sum of RSS (bytes) of every Chromium process not in `before`. */
function chromiumRss(before) {
  let sum = 0;
  for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    if (before.has(pid)) continue;
    try {
      const comm = fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      if (!/^(chrom|headless_shell)/.test(comm)) continue;
      const m = fs.readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
      if (m) sum += Number(m[1]) * 1024;
    } catch { /* the process ended */ }
  }
  return sum;
}

const pct = (v, p) => {
  const s = [...v].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const i = (s.length - 1) * p / 100, lo = Math.floor(i), hi = Math.ceil(i);
  return s[lo] + (s[hi] - s[lo]) * (i - lo);
};

const before = new Set(fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d)));
const srv = await serve();
const browser = await launch();
const rows = [];
for (const dump of dumps) {
  const size = fs.statSync(dump).size;
  const page = await newPage(browser);
  await page.goto(srv.url + "?embed=1");
  await page.waitForFunction(() => document.body.dataset.state === "idle");
  await page.evaluate(() => {
    new MutationObserver(() => {
      if (document.body.dataset.state === "ready" && !window.__rs_ready) window.__rs_ready = performance.now();
    }).observe(document.body, { attributes: true });
  });
  await new Promise((r) => setTimeout(r, 300));
  const baseline = chromiumRss(before);
  let peak = baseline;
  const sampler = setInterval(() => { peak = Math.max(peak, chromiumRss(before)); }, 20);
  const t0 = await page.evaluate(() => performance.now());
  await page.locator("[data-testid=file-input]").setInputFiles(dump);
  await page.waitForFunction(() => ["ready", "error"].includes(document.body.dataset.state), null, { timeout: 300000, polling: 10 });
  const state = await page.evaluate(() => document.body.dataset.state);
  if (state !== "ready") {
    clearInterval(sampler);
    const why = await page.locator("[data-testid=load-error]").innerText().catch(() => "unknown");
    console.log(`${dump.split("/").pop()}: failed to load: ${why}`);
    await page.close();
    continue;
  }
  await page.waitForFunction(() => window.__rs_first_paint, null, { timeout: 30000 });
  clearInterval(sampler);
  peak = Math.max(peak, chromiumRss(before));
  const { firstPaint, ready } = await page.evaluate(() => ({ firstPaint: window.__rs_first_paint, ready: window.__rs_ready }));
  const spans = Number(await page.locator("[data-testid=span-count]").innerText());
  // Scripted pan/zoom: zoom in around several points, drag, zoom out, scroll rows.
  const box = await page.locator("canvas[data-testid=timeline]").boundingBox();
  await page.evaluate(() => { window.__rs_frames = []; });
  const frame = () => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
  for (let i = 0; i < 40; i++) {
    await page.mouse.move(box.x + 200 + ((i * 97) % (box.width - 220)), box.y + box.height * 0.5);
    await page.mouse.wheel(0, -120);
    await frame();
  }
  for (let i = 0; i < 40; i++) {
    const x = box.x + box.width * 0.6, y = box.y + box.height * 0.5;
    await page.mouse.move(x, y);
    await page.mouse.down();
    await page.mouse.move(x - 40, y - 10, { steps: 2 });
    await page.mouse.up();
    await frame();
  }
  for (let i = 0; i < 40; i++) {
    await page.mouse.wheel(0, 160);
    await frame();
  }
  await page.keyboard.down("Shift");
  for (let i = 0; i < 20; i++) {
    await page.mouse.wheel(0, 200);
    await frame();
  }
  await page.keyboard.up("Shift");
  const frames = await page.evaluate(() => window.__rs_frames);
  rows.push({
    dump, size, spans,
    firstPaint: (firstPaint - t0) / 1000,
    ready: (ready - t0) / 1000,
    peak: (peak - baseline),
    frames: frames.length, p50: pct(frames, 50), p95: pct(frames, 95),
  });
  await page.close();
}
await browser.close();
srv.server.close();

const cpu = (fs.readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/) || [])[1] || "unknown CPU";
console.log(`machine: ${(fs.readFileSync("/proc/cpuinfo", "utf8").match(/^processor/gm) || []).length} cores, ${cpu}; headless Chromium, software rendering`);
console.log(["dump", "MB", "spans", "first paint s", "ready s", "peak MB", "x file", "frames", "p50 ms", "p95 ms"].join("\t"));
for (const r of rows) {
  console.log([r.dump.split("/").pop(), (r.size / 1e6).toFixed(1), r.spans, r.firstPaint.toFixed(2), r.ready.toFixed(2),
    (r.peak / 1e6).toFixed(0), (r.peak / r.size).toFixed(2), r.frames, r.p50.toFixed(2), r.p95.toFixed(2)].join("\t"));
}
let torch = false;
try { execFileSync("python3", ["-c", "import torch"], { stdio: "ignore" }); torch = true; } catch { /* no torch */ }
console.log(torch
  ? "slime's trace_timeline_viewer.py: torch is installed; run it on the same dumps to compare (not automated here)"
  : "slime's trace_timeline_viewer.py: skipped, torch is not installed on this machine (its reference figure: 14.7 s, 2.57 GB RSS on a 301 MB dump)");

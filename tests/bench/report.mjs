// One-file report benchmark: for each dump, writes its report with the real binary
// (`rollscope html`, timed), then opens it from file:// in headless Chromium a few times (a fresh
// context each time) and measures the time from navigation to the end of the first frame
// rendered after <body data-state="ready"> (polled every 20 ms). Prints a table; with $ROLLSCOPE_BENCH_RESULTS set, appends
// `dump<TAB>key<TAB>value` lines (report_bytes, report_write_s, report_ready_s: the median of
// the runs, report_ready_runs) for `cargo xtask bench`. Asserts nothing.
//   ROLLSCOPE_BIN=target/release/rollscope node tests/bench/report.mjs DUMP [DUMP ...]
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { launch, ROOT } from "../browser/helpers.js";

const dumps = process.argv.slice(2);
if (dumps.length === 0) {
  console.error("usage: node tests/bench/report.mjs DUMP [DUMP ...]");
  process.exit(2);
}
const BIN = process.env.ROLLSCOPE_BIN || path.join(ROOT, "target/release/rollscope");
const RUNS = Number(process.env.ROLLSCOPE_REPORT_RUNS || 3);
const LOAD_TIMEOUT_MS = 600_000;

/** Seconds from navigation to the ready frame, or an error text. */
async function openOnce(browser, file) {
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  try {
    const page = await context.newPage();
    await page.goto("file://" + file, { waitUntil: "commit", timeout: LOAD_TIMEOUT_MS });
    await page.waitForFunction(() => ["ready", "error"].includes(document.body?.dataset.state), null,
      { timeout: LOAD_TIMEOUT_MS, polling: 20 });
    if (await page.evaluate(() => document.body.dataset.state) !== "ready") {
      const why = await page.locator("[data-testid=load-error]").innerText({ timeout: 2000 }).catch(() => "");
      return { error: `state error: ${why.replace(/\s+/g, " ").trim() || "no message"}` };
    }
    // The end of the next rendered frame (a task posted from rAF runs right after it), in
    // seconds since the navigation started; the state is polled every 20 ms.
    const s = await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => ok(performance.now() / 1000);
      ch.port2.postMessage(0);
    })));
    return { s };
  } finally {
    await context.close();
  }
}

async function measure(dump) {
  const size = fs.statSync(dump).size;
  const r = { dump: path.basename(dump), size, runs: [] };
  const out = path.resolve(path.dirname(dump), path.basename(dump).replace(/\.pt$/, "") + ".report.html");
  try {
    const t = process.hrtime.bigint();
    execFileSync(BIN, ["html", dump, "-o", out], { stdio: "pipe" });
    r.write = Number(process.hrtime.bigint() - t) / 1e9;
    r.bytes = fs.statSync(out).size;
  } catch (e) {
    r.error = `rollscope html: ${String(e.stderr || e.message || e).trim().split("\n")[0]}`;
    return r;
  }
  let browser;
  try {
    browser = await launch();
    for (let i = 0; i < RUNS; i++) {
      const o = await openOnce(browser, out);
      if (o.error) { r.error = o.error; break; }
      r.runs.push(o.s);
    }
  } catch (e) {
    r.error = String(e.message || e).split("\n")[0];
  } finally {
    await browser?.close().catch(() => {});
    fs.rmSync(out, { force: true });
  }
  const sorted = [...r.runs].sort((a, b) => a - b);
  if (sorted.length) r.ready = sorted[Math.floor((sorted.length - 1) / 2)];
  return r;
}

const rows = [];
for (const dump of dumps) {
  const r = await measure(dump);
  rows.push(r);
  console.log(`${r.dump}: ${r.error ? "failed: " + r.error : `report ${(r.bytes / 1e6).toFixed(1)} MB, ready in ${r.ready.toFixed(2)} s`}`);
}
const f2 = (v) => (v === undefined ? "-" : v.toFixed(2));
console.log(["dump", "MB", "report MB", "report/file", "write s", "ready s (median)", "runs s"].join("\t"));
for (const r of rows) {
  console.log([r.dump, (r.size / 1e6).toFixed(0), r.bytes ? (r.bytes / 1e6).toFixed(1) : "-",
    r.bytes ? f2(r.bytes / r.size) : "-", f2(r.write), f2(r.ready), r.runs.map(f2).join(" ") || (r.error ?? "-")].join("\t"));
}
if (process.env.ROLLSCOPE_BENCH_RESULTS) {
  const lines = [];
  for (const r of rows) {
    const put = (key, v) => { if (v !== undefined) lines.push(`${r.dump}\t${key}\t${v}`); };
    put("report_bytes", r.bytes);
    put("report_write_s", r.write?.toFixed(3));
    put("report_ready_s", r.ready?.toFixed(3));
    put("report_ready_runs", r.runs.length ? r.runs.map(f2).join(" ") : undefined);
    put("report_error", r.error?.replace(/[\t\n]/g, " "));
  }
  fs.appendFileSync(process.env.ROLLSCOPE_BENCH_RESULTS, lines.join("\n") + "\n");
}

// Two runs side by side (issue 21's target: runs of the size of tests/fixtures/run open in
// ≤ 2 s in the browser): `rollscope RUN RUN_REPLAY` served by the real binary, opened in
// headless Chromium a few times (a fresh context each), timed from navigation to both runs'
// `data-state="ready"` (polled every 20 ms). The browser test run-compare.test.js checks
// what is shown and only logs this time. Prints the runs; with $ROLLSCOPE_BENCH_RESULTS set,
// appends `compare<TAB>key<TAB>value` lines (compare_open_s: the median, compare_open_runs)
// for `cargo xtask bench`. Asserts nothing.
//   ROLLSCOPE_BIN=target/release/rollscope node tests/bench/compare.mjs
import fs from "node:fs";
import path from "node:path";
import { launch, startRollscope, ROOT, RUN } from "../browser/helpers.js";

const RUNS = Number(process.env.ROLLSCOPE_COMPARE_RUNS || 3);
const REPLAY = path.join(ROOT, "tests/fixtures/run_replay");
const results = [];
let error;
const srv = await startRollscope([RUN, REPLAY]);
const browser = await launch();
try {
  for (let i = 0; i < RUNS; i++) {
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    try {
      const page = await context.newPage();
      const t0 = Date.now();
      await page.goto(srv.url);
      await page.waitForFunction(() => document.querySelector("[data-testid=run]")?.dataset.state === "ready"
        && document.querySelector("[data-testid=run-pair]")?.dataset.state === "ready", null, { timeout: 120000, polling: 20 });
      results.push((Date.now() - t0) / 1000);
    } finally {
      await context.close();
    }
  }
} catch (e) {
  error = String(e?.message || e).split("\n")[0];
} finally {
  await browser.close();
  srv.child.kill();
}
const sorted = [...results].sort((a, b) => a - b);
const median = sorted.length ? sorted[Math.floor(sorted.length / 2)] : undefined;
console.log(`two runs side by side (run + run_replay): ${results.map((s) => s.toFixed(2)).join(" ")} s` +
  (median !== undefined ? `, median ${median.toFixed(2)} s` : "") + (error ? `; failed: ${error}` : ""));
if (process.env.ROLLSCOPE_BENCH_RESULTS) {
  const lines = [];
  if (median !== undefined) {
    lines.push(`compare\tcompare_open_s\t${median}`);
    lines.push(`compare\tcompare_open_runs\t${results.map((s) => s.toFixed(2)).join(" ")}`);
  }
  if (error) lines.push(`compare\tcompare_error\t${error}`);
  fs.appendFileSync(process.env.ROLLSCOPE_BENCH_RESULTS, lines.join("\n") + "\n");
}

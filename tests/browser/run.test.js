// The run explorer on the shared run fixture (tests/fixtures/run): opening the folder,
// trends, the rollout table (flags, sorting), a step and its sample, compare, the link round
// trip, `?run=<index URL>`, and a sample's trace in the timeline.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import os from "node:os";
import { serve, launch, newPage, waitState, shot, docShot, RUN, DIST } from "./helpers.js";

const REF = JSON.parse(fs.readFileSync(path.join(RUN, "run_reference.json"), "utf8"));
const TRAIN = REF.rollouts.filter((r) => r.kind === "train");

let srv, runSrv, browser;

/** dist/ at /, and the run as `rollscope DIR` serves it: /r/t/index.json and /r/t/f/<path>. */
async function serveRun() {
  const files = [];
  const walk = (dir, rel) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(dir, e.name), p);
      else files.push({ path: p, size: fs.statSync(path.join(dir, e.name)).size });
    }
  };
  walk(RUN, "");
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    let base = DIST;
    let rel = decodeURIComponent(url.pathname);
    if (rel === "/r/t/index.json") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ files }));
      return;
    }
    if (rel.startsWith("/r/t/f/")) { base = RUN; rel = rel.slice("/r/t/f".length); }
    if (rel.endsWith("/")) rel += "index.html";
    const file = path.join(base, path.normalize(rel));
    if (!file.startsWith(base) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404); res.end("not found"); return;
    }
    const type = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".css": "text/css" }[path.extname(file)];
    res.writeHead(200, type ? { "content-type": type } : {});
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  return { server, url: `http://127.0.0.1:${server.address().port}/` };
}

before(async () => { srv = await serve(); runSrv = await serveRun(); browser = await launch(); });
after(async () => { await browser?.close(); srv?.server.close(); runSrv?.server.close(); });

async function waitRun(page, timeout = 60000) {
  await page.waitForFunction(() => ["ready", "error"].includes(document.querySelector("[data-testid=run]")?.dataset.state),
    null, { timeout });
  return page.evaluate(() => document.querySelector("[data-testid=run]").dataset.state);
}

async function openRun(page) {
  await page.locator("[data-testid=run-input]").setInputFiles(RUN);
  assert.equal(await waitRun(page), "ready");
}

async function fresh() {
  const page = await newPage(browser);
  await page.goto(srv.url);
  assert.equal(await waitState(page, ["ready", "error"]), "ready", "demo loads");
  await openRun(page);
  return page;
}

const rowIds = (page) => page.$$eval("tr[data-testid=run-step]", (rows) => rows.map((r) => `${r.dataset.kind}:${r.dataset.rolloutId}`));

async function openStep(page, id, kind = "train") {
  await page.locator(`tr[data-testid=run-step][data-rollout-id="${id}"][data-kind=${kind}]`).click();
  await page.waitForFunction(() => document.querySelector("[data-testid=run-step-view]")?.dataset.state === "ready");
}

test("the run explorer is its own app: a plain page load fetches none of it, opening a run does", async () => {
  const page = await newPage(browser);
  const fetched = [];
  page.on("request", (r) => fetched.push(new URL(r.url()).pathname));
  await page.goto(srv.url);
  assert.equal(await waitState(page, ["ready", "error"]), "ready", "demo loads");
  // The timeline's worker has started (it parsed the demo) by now.
  assert.ok(fetched.some((p) => p.endsWith("/worker_bg.wasm")), `the timeline's worker: ${fetched}`);
  assert.deepEqual(fetched.filter((p) => /\/run(app|worker)/.test(p)), [], "no run explorer file on a plain load");
  assert.equal(await page.locator("[data-testid=back-to-run]").count(), 0);
  await openRun(page);
  for (const f of ["runapp_loader.js", "runapp.js", "runapp_bg.wasm", "runworker_loader.js", "runworker_bg.wasm"]) {
    assert.ok(fetched.some((p) => p.endsWith(`/${f}`)), `${f} fetched once a run opens: ${fetched.filter((p) => p.includes("run"))}`);
  }
  // The timeline is hidden while the run is shown; a second run reuses the started app.
  assert.ok(!(await page.locator("canvas[data-testid=timeline]").isVisible()));
  const before = fetched.filter((p) => p.endsWith("/runapp_bg.wasm")).length;
  await openRun(page);
  assert.equal(fetched.filter((p) => p.endsWith("/runapp_bg.wasm")).length, before, "the run app loads once");
  assert.equal(await page.locator("[data-testid=run]").count(), 1);
  assert.deepEqual(page.errors, []);
});

test("the run folder opens: every dump in the table, kinds and flags right, nothing else flagged", async () => {
  const page = await fresh();
  assert.equal(await page.locator("[data-testid=run-progress]").innerText(), "8 / 8 dumps");
  assert.deepEqual(await rowIds(page), REF.rollouts.map((r) => `${r.kind}:${r.rollout_id}`));
  const flags = await page.$$eval("tr[data-testid=run-step]", (rows) => Object.fromEntries(rows.map((r) =>
    [`${r.dataset.kind}:${r.dataset.rolloutId}`, [...r.querySelectorAll(".badge[data-testid^=flag-]")].map((b) => b.dataset.testid).sort()])));
  assert.deepEqual(flags, {
    "train:0": [], "eval:0": [], "train:1": ["flag-untraced"], "train:2": [],
    "train:3": ["flag-straggler"], "train:4": ["flag-truncation"], "train:5": [], "eval:5": [],
  });
  // The reward column is slime's reward/mean for every dump.
  const rewards = await page.$$eval("tr[data-testid=run-step]", (rows) => rows.map((r) => Number(r.children[4].innerText)));
  REF.rollouts.forEach((r, i) => assert.ok(Math.abs(rewards[i] - r["reward/mean"]) < 0.005, `${r.file}: ${rewards[i]} vs ${r["reward/mean"]}`));
  assert.equal(await page.locator("[data-testid=run-step-error]").count(), 0);
  await page.screenshot({ path: shot("run-overview.png"), fullPage: true });
  assert.deepEqual(page.errors, []);
});

test("the README's run explorer screenshot: trends and the rollout table in view", async () => {
  const page = await fresh();
  await page.locator("[data-testid=run-chart]").first().waitFor({ state: "visible" });
  assert.ok(await page.locator("[data-testid=run-trends]").isVisible());
  // From the top: every trend chart and the distributions (the page scrolls inside its root).
  await page.screenshot({ path: docShot("run-explorer.png"), fullPage: true });
  assert.deepEqual(page.errors, []);
});

test("trends: every chart has its series drawn, evals apart, the straggler ringed, hover and click", async () => {
  const page = await fresh();
  const charts = await page.$$eval("[data-testid=run-chart]", (cs) => cs.map((c) => ({
    id: c.dataset.chart,
    lines: [...c.querySelectorAll("path[data-testid=trend-line]")].map((p) => [p.dataset.series, p.getAttribute("d").split(/[ML]/).filter(Boolean).length]),
    points: c.querySelectorAll("[data-testid=trend-point]").length,
    evalPoints: c.querySelectorAll("[data-testid=trend-point][data-kind=eval]").length,
    bands: c.querySelectorAll("[data-testid=trend-band]").length,
    outliers: [...c.querySelectorAll("[data-testid=trend-outlier]")].map((o) => o.dataset.rolloutId),
  })));
  const by = Object.fromEntries(charts.map((c) => [c.id, c]));
  assert.deepEqual(Object.keys(by), ["reward", "pass", "response-len", "truncated", "time", "zero-std",
    "train-log-probs", "train-kl", "train-abs-diff", "staleness"]);
  // reward: 6 train means with a band, and eval/math500 + eval/aime24 at rollouts 0 and 5.
  assert.deepEqual(by.reward.lines, [["reward mean", 6], ["eval/math500", 2], ["eval/aime24", 2]]);
  assert.equal(by.reward.points, 10);
  assert.equal(by.reward.evalPoints, 4);
  assert.equal(by.reward.bands, 1);
  assert.deepEqual(by.pass.lines.map((l) => l[0]), ["pass@1", "pass@4", "eval/math500 pass@1", "eval/aime24 pass@1"]);
  assert.deepEqual(by["response-len"].lines.slice(0, 2), [["mean", 6], ["max", 6]]);
  // Rollout 1 is untraced: its time is missing, and the line breaks there (5 points).
  assert.deepEqual(by.time.lines, [["rollout time", 5], ["e2e p99", 5]]);
  assert.deepEqual(by.time.outliers, ["3"], "rollout 3's time is far above the median");
  assert.deepEqual(by["zero-std"].lines, [["zero-std groups", 6]]);
  // The train side (slime's log_rollout_data): train and rollout log probs for every train
  // rollout; this run has no reference model, so no reference line.
  assert.deepEqual(by["train-log-probs"].lines, [["train", 6], ["rollout", 6]]);
  // Hover shows the values; a click opens that rollout.
  const pt = page.locator("[data-chart=time] [data-testid=trend-point][data-series='rollout time'][data-rollout-id='3']");
  await pt.hover();
  const tip = await page.locator("[data-testid=trend-tip]").innerText();
  assert.match(tip, /rollout 3 · rollout time 227\.7 · e2e p99 .* · outlier: \d+× the run's median rollout time/);
  await pt.click();
  await page.waitForFunction(() => document.querySelector("[data-testid=run-step-view]")?.dataset.state === "ready");
  assert.match(await page.locator("#run-step-view h3").textContent(), /rollout 3 · run\/rollout_data\/3\.pt/);
  assert.equal(await page.locator("[data-testid=dist-reward]").count(), 8);
  assert.equal(await page.locator("[data-testid=dist-response-len]").count(), 8);
  await page.locator("[data-testid=run-trends]").screenshot({ path: shot("run-trends.png") });
  assert.deepEqual(page.errors, []);
});

test("sorting the rollout table by a column, both ways", async () => {
  const page = await fresh();
  const th = page.locator("th[data-col=reward]");
  await th.locator("button").click();
  assert.equal(await th.getAttribute("aria-sort"), "ascending");
  const key = (r) => `${r.kind}:${r.rollout_id}`;
  // Ties keep run order (stable), so the expected order is a stable sort of the reference.
  const asc = REF.rollouts.map((r, i) => [r, i]).sort((a, b) => a[0]["reward/mean"] - b[0]["reward/mean"] || a[1] - b[1]).map((x) => key(x[0]));
  assert.deepEqual(await rowIds(page), asc);
  await th.locator("button").click();
  assert.equal(await th.getAttribute("aria-sort"), "descending");
  const desc = REF.rollouts.map((r, i) => [r, i]).sort((a, b) => b[0]["reward/mean"] - a[0]["reward/mean"] || a[1] - b[1]).map((x) => key(x[0]));
  assert.deepEqual(await rowIds(page), desc);
  // Rollout time: the untraced rollout and the evals have none and stay last.
  await page.locator("th[data-col='rollout time'] button").click();
  const ids = await rowIds(page);
  assert.deepEqual(ids.slice(0, 5), ["train:0", "train:2", "train:4", "train:5", "train:3"]);
  assert.deepEqual(ids.slice(5), ["eval:0", "train:1", "eval:5"]);
});

test("a step opens with its samples; the sample's text is text; the link reopens the same view", async () => {
  const page = await fresh();
  await openStep(page, 2);
  const samples = REF.samples.filter((s) => s.kind === "train" && s.rollout_id === 2);
  await page.waitForFunction((n) => document.querySelectorAll("[data-testid=sample-row]").length === n, samples.length);
  await page.locator("[data-testid=sample-row][data-position='19']").click();
  const resp = page.locator("[data-testid=sample-response]");
  await resp.waitFor();
  assert.match(await resp.innerText(), /<script>alert\(1\)<\/script>/);
  assert.equal(await page.locator("[data-testid=sample-response] script").count(), 0, "dump text never becomes HTML");
  // The run has a tokenizer: the worker sends the response token by token.
  const rec = samples.find((s) => s.position === 19);
  await page.waitForFunction((n) => document.querySelector("[data-testid=sample-tokens]")?.dataset.tokenCount === String(n), rec.response_token_count);
  // The default comparison (first and last train rollout) is in the link too.
  await page.waitForFunction(() => location.hash === "#step=2&sample=19&cmp=0%2C5");
  await page.screenshot({ path: shot("run-step.png"), fullPage: false });
  // A reload keeps the link; opening the folder again restores step and sample.
  await page.reload();
  await waitState(page, ["ready", "error"]);
  assert.equal(await page.evaluate(() => location.hash), "#step=2&sample=19&cmp=0%2C5");
  assert.match(await page.locator(".notice").innerText(), /open that folder again/);
  await openRun(page);
  await page.waitForFunction(() => document.querySelector("[data-testid=sample-inspector]")?.dataset.position === "19");
  assert.equal(await page.locator("tr[data-testid=run-step].open").getAttribute("data-rollout-id"), "2");
  assert.match(await page.locator("[data-testid=sample-response]").innerText(), /<script>alert\(1\)<\/script>/);
  assert.deepEqual(page.errors, []);
});

test("compare: metric deltas and overlaid distributions of two rollouts", async () => {
  const page = await fresh();
  const panel = page.locator("[data-testid=run-compare]");
  // The run's first and last train rollouts by default.
  await page.waitForFunction(() => document.querySelectorAll("[data-testid=compare-row]").length > 0);
  const indexOf = (id, kind) => REF.rollouts.findIndex((r) => r.rollout_id === id && r.kind === kind);
  await panel.locator("[data-testid=compare-a]").selectOption(String(indexOf(1, "train")));
  await panel.locator("[data-testid=compare-b]").selectOption(String(indexOf(4, "train")));
  const delta = async (m) => panel.locator(`[data-testid=compare-row][data-metric='${m}'] [data-testid=compare-delta]`).innerText();
  const a = TRAIN.find((r) => r.rollout_id === 1), b = TRAIN.find((r) => r.rollout_id === 4);
  assert.equal(Number(await delta("reward mean")), Number((b["reward/mean"] - a["reward/mean"]).toFixed(3)));
  assert.equal(Number(await delta("response length max")), b["rollout/response_len/max"] - a["rollout/response_len/max"]);
  assert.equal(await delta("rollout time (s)"), "—", "rollout 1 is untraced: no time to compare");
  assert.equal(await panel.locator("[data-testid=compare-dist]").count(), 3);
  assert.equal(await panel.locator("[data-testid=compare-dist-a]").count(), 2, "rollout 1 has no e2e latencies to draw");
  assert.equal(await panel.locator("[data-testid=compare-dist-b]").count(), 3, "rollout 4 has all three");
  await page.waitForFunction(() => location.hash === "#cmp=1%2C4");
  await panel.screenshot({ path: shot("run-compare.png") });
  assert.deepEqual(page.errors, []);
});

test("?run=<index URL> opens the run from a host, and its link opens the step", async () => {
  const page = await newPage(browser);
  await page.goto(`${runSrv.url}?run=r/t/index.json#step=eval_5&sample=3`);
  assert.equal(await waitRun(page), "ready");
  assert.deepEqual(await rowIds(page), REF.rollouts.map((r) => `${r.kind}:${r.rollout_id}`));
  await page.waitForFunction(() => document.querySelector("[data-testid=sample-inspector]")?.dataset.position === "3");
  assert.equal(await page.locator("[data-testid=sample-row]").count(), 24);
  assert.equal(await page.locator("tr[data-testid=run-step].open").getAttribute("data-kind"), "eval");
  assert.equal(await page.evaluate(() => document.body.dataset.state), "idle", "no demo dump is loaded under a run");
  assert.deepEqual(page.errors, []);
});

test("a sample's trace opens in the timeline, and Back to run returns", async () => {
  const page = await fresh();
  await openStep(page, 0);
  await page.locator("[data-testid=sample-row][data-position='7']").click();
  await page.locator("[data-testid=open-trace]").click();
  await page.waitForFunction(() => document.querySelector(".file-name")?.innerText === "0.pt" && document.body.dataset.state === "ready");
  assert.ok(await page.locator("canvas[data-testid=timeline]").isVisible());
  assert.ok(!(await page.locator("[data-testid=run]").isVisible()));
  assert.match(await page.locator("[data-testid=details]").innerText(), /sample|7/);
  await page.screenshot({ path: shot("run-trace.png") });
  await page.locator("[data-testid=back-to-run]").click();
  assert.ok(await page.locator("[data-testid=run]").isVisible());
  assert.equal(await page.locator("[data-testid=sample-inspector]").getAttribute("data-position"), "7");
  assert.deepEqual(page.errors, []);
});

test("while a run is shown the toolbar keeps its openers; Open… shows the file in the timeline, Back to run returns", async () => {
  const page = await fresh();
  assert.ok(!(await page.locator("[data-testid=filter]").isVisible()), "the timeline's filter is hidden under a run");
  assert.ok(!(await page.locator("canvas[data-testid=timeline]").isVisible()));
  await page.locator("[data-testid=file-input]").setInputFiles(path.join(DIST, "demo.pt"));
  await page.waitForFunction(() => document.querySelector(".file-name")?.innerText === "demo.pt" && document.body.dataset.state === "ready");
  assert.ok(await page.locator("canvas[data-testid=timeline]").isVisible());
  assert.ok(await page.locator("[data-testid=filter]").isVisible());
  assert.ok(!(await page.locator("[data-testid=run]").isVisible()));
  await page.locator("[data-testid=back-to-run]").click();
  assert.ok(await page.locator("[data-testid=run]").isVisible());
  assert.equal(await page.locator("[data-testid=back-to-run]").count(), 0);
  assert.deepEqual(page.errors, []);
});

test("a dump that cannot be read is a row with its error; the rest of the run is read", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-run-"));
  fs.mkdirSync(path.join(dir, "rollout_data"));
  fs.copyFileSync(path.join(RUN, "rollout_data", "0.pt"), path.join(dir, "rollout_data", "0.pt"));
  fs.writeFileSync(path.join(dir, "rollout_data", "1.pt"), "this is not a torch file");
  fs.copyFileSync(path.join(RUN, "rollout_data", "2.pt"), path.join(dir, "rollout_data", "2.pt"));
  const page = await newPage(browser);
  await page.goto(srv.url);
  await waitState(page, ["ready", "error"]);
  await page.locator("[data-testid=run-input]").setInputFiles(dir);
  assert.equal(await waitRun(page), "ready");
  const states = await page.$$eval("tr[data-testid=run-step]", (rows) => rows.map((r) => `${r.dataset.rolloutId}:${r.dataset.state}`));
  assert.deepEqual(states, ["0:ready", "1:error", "2:ready"]);
  const err = await page.locator("tr[data-rollout-id='1'] [data-testid=run-step-error]").innerText();
  assert.ok(err.length > 10 && !err.includes("\n"), `a one-line error: ${err}`);
  // Its step says the same, and the other rollouts still open.
  await page.locator("tr[data-testid=run-step][data-rollout-id='1']").click();
  await page.waitForFunction(() => document.querySelector("[data-testid=run-step-view]")?.dataset.state === "error");
  assert.match(await page.locator("[data-testid=step-error]").innerText(), /1\.pt: /);
  await openStep(page, 2);
  assert.equal(await page.locator("[data-testid=sample-row]").count(), 24);
  assert.deepEqual(page.errors, []);
});

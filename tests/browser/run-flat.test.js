// The run explorer on a run saved with slime's documented flags (tests/fixtures/run_flat:
// rollout_{id}.pt, rollout_eval_{id}.pt and train_{id}_{rank}.pt side by side, eval sets
// without names, a reference model): no eval counted as a training rollout, two eval series in
// file order, the train side's charts, and the reference log probs in the token view.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { serve, launch, newPage, waitState, shot, ROOT } from "./helpers.js";

const RUN = path.resolve(ROOT, "tests/fixtures/run_flat");
const REF = JSON.parse(fs.readFileSync(path.join(RUN, "run_reference.json"), "utf8"));

let srv, browser;
before(async () => { srv = await serve(); browser = await launch(); });
after(async () => { await browser?.close(); srv?.server.close(); });

async function openFlatRun() {
  const page = await newPage(browser);
  await page.goto(srv.url);
  assert.equal(await waitState(page, ["ready", "error"]), "ready", "demo loads");
  await page.locator("[data-testid=run-input]").setInputFiles(RUN);
  await page.waitForFunction(() => ["ready", "error"].includes(document.querySelector("[data-testid=run]")?.dataset.state),
    null, { timeout: 60000 });
  assert.equal(await page.evaluate(() => document.querySelector("[data-testid=run]").dataset.state), "ready");
  return page;
}

test("a flat run: evals are evals, rollouts are rollouts, train files are no dumps", async () => {
  const page = await openFlatRun();
  const rows = await page.$$eval("tr[data-testid=run-step]", (rs) => rs.map((r) => `${r.dataset.kind}:${r.dataset.rolloutId}`));
  assert.deepEqual(rows.sort(), REF.rollouts.map((r) => `${r.kind}:${r.rollout_id}`).sort());
  assert.equal(rows.filter((r) => r.startsWith("train:")).length, 6);
  assert.equal(rows.filter((r) => r.startsWith("eval:")).length, 2);
  // Train data was paired: no rollout is flagged as missing it.
  assert.equal(await page.locator("tr[data-testid=run-step] [data-testid=flag-missing-train]").count(), 0);
  assert.equal(await page.locator("[data-testid=run-step-error]").count(), 0);
  assert.deepEqual(page.errors, []);
});

test("a flat run: two eval series in file order, and the train side's charts", async () => {
  const page = await openFlatRun();
  const reward = page.locator("[data-testid=run-chart][data-chart=reward]");
  await reward.waitFor();
  const series = await reward.locator("[data-testid=trend-line]").evaluateAll((ls) => ls.map((l) => l.dataset.series));
  const evals = series.filter((s) => s.startsWith("eval/"));
  // The file names no dataset: the sets are told apart where `index` restarts, in file order.
  assert.deepEqual(evals, ["eval/eval set 1", "eval/eval set 2"]);
  for (const id of ["train-log-probs", "train-kl", "train-abs-diff"]) {
    const chart = page.locator(`[data-testid=run-chart][data-chart=${id}]`);
    assert.equal(await chart.count(), 1, id);
    assert.ok(await chart.locator("[data-testid=trend-line]").count() >= 1, id);
  }
  const lp = await page.locator("[data-testid=run-chart][data-chart=train-log-probs] [data-testid=trend-line]")
    .evaluateAll((ls) => ls.map((l) => l.dataset.series));
  assert.ok(lp.includes("reference"), `${lp}`);
  await page.screenshot({ path: shot("run-flat.png"), fullPage: true });
  assert.deepEqual(page.errors, []);
});

test("a flat run: the token view offers the reference log probs and train − reference", async () => {
  const page = await openFlatRun();
  await page.locator("tr[data-testid=run-step][data-rollout-id='2'][data-kind=train]").click();
  await page.waitForFunction(() => document.querySelector("[data-testid=run-step-view]")?.dataset.state === "ready");
  await page.locator("[data-testid=sample-row]").first().click();
  await page.locator("[data-testid=sample-tokens]").waitFor();
  const select = page.locator("[data-testid=token-value]");
  await select.waitFor();
  const offered = await select.locator("option").evaluateAll((os) => os.map((o) => o.value));
  for (const v of ["rollout_log_prob", "train_log_prob", "advantage", "kl", "ref_log_prob", "ref_gap"]) {
    assert.ok(offered.includes(v), `${v} in ${offered}`);
  }
  // No entropy in this run (slime keeps it only with --use-rollout-entropy).
  assert.ok(!offered.includes("entropy"), `${offered}`);
  await select.selectOption("ref_log_prob");
  await page.waitForFunction(() => document.querySelector("[data-testid=token-legend]")?.dataset.value === "ref_log_prob");
  await page.screenshot({ path: shot("run-flat-tokens.png") });
  assert.deepEqual(page.errors, []);
});

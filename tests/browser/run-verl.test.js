// The run explorer on verl's rollout logs (tests/fixtures/verl/run: `rollout/{step}.jsonl` and
// `validation/{step}.jsonl`, written by verl's own `_dump_generations`): training and
// validation steps told apart by folder, the reward and pass@k trends of both, a step's table
// with every reward_extra_infos key as a column, the text search, and a sample in the inspector.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { eachBrowser, newPage, waitState, shot, startRollscope, ROOT } from "./helpers.js";

const VERL = path.resolve(ROOT, "tests/fixtures/verl");
const RUN = path.join(VERL, "run");
const WANT = JSON.parse(fs.readFileSync(path.join(VERL, "expected.json"), "utf8")).files;
const lines = (file) => fs.readFileSync(path.join(RUN, file), "utf8").trim().split("\n").map((l) => JSON.parse(l));
const rowSel = "[data-testid=sample-row]";

/** The run opened through the folder input (Chromium: Firefox's driver cannot pick a folder),
 * else through `rollscope DIR`'s `?run=` link. */
async function openVerlRun(env) {
  const page = await newPage(env.browser);
  if (env.kind === "chromium") {
    await page.goto(env.srv.url);
    assert.equal(await waitState(page, ["ready", "error"]), "ready", "demo loads");
    await page.locator("[data-testid=run-input]").setInputFiles(RUN);
  } else {
    await page.goto(env.host.url);
  }
  await page.waitForFunction(() => ["ready", "error"].includes(document.querySelector("[data-testid=run]")?.dataset.state),
    null, { timeout: 60000 });
  assert.equal(await page.evaluate(() => document.querySelector("[data-testid=run]").dataset.state), "ready");
  return page;
}

eachBrowser((env) => {
  before(async () => { env.host = await startRollscope([RUN]); });
  after(() => { env.host?.child.kill(); });

  test("a verl run: training and validation steps, reward and pass@k trends of both", async () => {
    const page = await openVerlRun(env);
    const rows = await page.evaluate(() => [...document.querySelectorAll("tr[data-testid=run-step]")]
      .map((r) => `${r.dataset.kind}:${r.dataset.rolloutId}`));
    assert.deepEqual(rows.sort(), WANT.map((w) => `${w.kind}:${w.step}`).sort());
    assert.equal(await page.locator("[data-testid=run-step-error]").count(), 0);
    for (const [chart, want] of [["reward", ["reward mean", "eval/validation"]], ["pass", ["pass@1", "pass@4", "eval/validation pass@1"]]]) {
      const sel = `[data-testid=run-chart][data-chart=${chart}] [data-testid=trend-line]`;
      await page.waitForFunction((sel) => !!document.querySelector(sel), sel);
      const series = await page.evaluate((sel) => [...document.querySelectorAll(sel)].map((l) => l.dataset.series), sel);
      for (const s of want) assert.ok(series.includes(s), `${chart}: ${s} in ${series}`);
    }
    // What verl does not record is not charted as zeros.
    assert.equal(await page.locator("[data-testid=run-chart][data-chart=train-log-probs]").count(), 0);
    await page.screenshot({ path: shot(`run-verl-${env.kind}.png`), fullPage: true });
    assert.deepEqual(page.errors, []);
  });

  test("a verl step: every extra key a column, search, and a sample in the inspector", async () => {
    const page = await openVerlRun(env);
    await page.locator("tr[data-testid=run-step][data-rollout-id='3'][data-kind=train]").click();
    const file = lines("rollout/3.jsonl");
    await page.waitForFunction(([sel, n]) => document.querySelectorAll(sel).length === n, [rowSel, file.length], { timeout: 30000 });
    for (const k of ["acc", "pred", "uid", "request_id"]) {
      assert.equal(await page.locator(`th[data-col="reward.${k}"]`).count(), 1, k);
    }
    // The search finds the responses that lack the answer format.
    const plain = file.filter((l) => l.output.toLowerCase().includes("the answer is")).length;
    assert.ok(plain > 0 && plain < file.length);
    await page.locator("[data-testid=step-search]").fill("The answer IS");
    await page.waitForFunction(([sel, n]) => document.querySelectorAll(sel).length === n, [rowSel, plain]);
    await page.locator("[data-testid=step-search]").fill("");
    await page.waitForFunction(([sel, n]) => document.querySelectorAll(sel).length === n, [rowSel, file.length]);

    await page.locator(`${rowSel}[data-position="5"]`).click();
    await page.waitForFunction(() => document.querySelector("[data-testid=sample-inspector]")?.dataset.position === "5"
      && !!document.querySelector("[data-testid=sample-response]"), null, { timeout: 30000 });
    const text = await page.evaluate(() => document.querySelector("[data-testid=sample-response]").textContent);
    assert.equal(text, file[5].output);
    const inspector = await page.locator("[data-testid=sample-inspector]").innerText();
    assert.ok(inspector.includes(file[5].input), "the prompt is shown");
    assert.ok(inspector.includes(file[5].pred), "the extras are shown");
    await page.screenshot({ path: shot(`run-verl-step-${env.kind}.png`), fullPage: true });
    assert.deepEqual(page.errors, []);
  });
});

// The run explorer on a run saved with slime's documented flags (tests/fixtures/run_flat:
// rollout_{id}.pt, rollout_eval_{id}.pt and train_{id}_{rank}.pt side by side, eval sets
// without names, a reference model), opened through the folder input and by `?run=` from
// `rollscope DIR`: no eval counted as a training rollout, two eval series in file order that
// the user can name (kept in the link), the train side's charts, and the token view with the
// reference log probs, the prompt's tokens and the loss mask. Last, a sample's images.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { serve, launch, newPage, waitState, shot, startRollscope as rollscope, ROOT } from "./helpers.js";

const RUN = path.resolve(ROOT, "tests/fixtures/run_flat");
const REF = JSON.parse(fs.readFileSync(path.join(RUN, "run_reference.json"), "utf8"));

let srv, browser, host;
before(async () => {
  srv = await serve();
  browser = await launch();
  host = await rollscope([RUN]);
});
after(async () => {
  host?.child.kill();
  await browser?.close();
  srv?.server.close();
});

async function waitRun(page) {
  await page.waitForFunction(() => ["ready", "error"].includes(document.querySelector("[data-testid=run]")?.dataset.state),
    null, { timeout: 60000 });
  assert.equal(await page.evaluate(() => document.querySelector("[data-testid=run]").dataset.state), "ready");
  return page;
}

/** The run through the page's folder input. */
async function byFolder(dir = RUN) {
  const page = await newPage(browser);
  await page.goto(srv.url);
  assert.equal(await waitState(page, ["ready", "error"]), "ready", "demo loads");
  await page.locator("[data-testid=run-input]").setInputFiles(dir);
  return waitRun(page);
}

/** The run as `rollscope DIR` serves it: its `?run=` URL (and an optional link `hash`). */
async function byHost(hash = "") {
  const page = await newPage(browser);
  assert.match(host.url, /\?run=r\/[0-9a-f]{32}\/index\.json/);
  await page.goto(host.url + hash);
  return waitRun(page);
}

const OPENERS = [["the folder input", () => byFolder()], ["?run= from rollscope DIR", () => byHost()]];

for (const [how, open] of OPENERS) {
  test(`a flat run by ${how}: evals are evals, rollouts are rollouts, train files are no dumps`, async () => {
    const page = await open();
    const rows = await page.$$eval("tr[data-testid=run-step]", (rs) => rs.map((r) => `${r.dataset.kind}:${r.dataset.rolloutId}`));
    assert.deepEqual(rows.sort(), REF.rollouts.map((r) => `${r.kind}:${r.rollout_id}`).sort());
    assert.equal(rows.filter((r) => r.startsWith("train:")).length, 6);
    assert.equal(rows.filter((r) => r.startsWith("eval:")).length, 2);
    // Train data was paired: no rollout is flagged as missing it.
    assert.equal(await page.locator("tr[data-testid=run-step] [data-testid=flag-missing-train]").count(), 0);
    assert.equal(await page.locator("[data-testid=run-step-error]").count(), 0);
    assert.deepEqual(page.errors, []);
  });

  test(`a flat run by ${how}: two eval series in file order, and the train side's charts`, async () => {
    const page = await open();
    const reward = page.locator("[data-testid=run-chart][data-chart=reward]");
    await reward.waitFor();
    const series = await reward.locator("[data-testid=trend-line]").evaluateAll((ls) => ls.map((l) => l.dataset.series));
    // The file names no dataset: the sets are told apart where `index` restarts, in file order.
    assert.deepEqual(series.filter((s) => s.startsWith("eval/")), ["eval/eval set 1", "eval/eval set 2"]);
    for (const id of ["train-log-probs", "train-kl", "train-abs-diff"]) {
      const chart = page.locator(`[data-testid=run-chart][data-chart=${id}]`);
      assert.equal(await chart.count(), 1, id);
      assert.ok(await chart.locator("[data-testid=trend-line]").count() >= 1, id);
    }
    const lp = await page.locator("[data-testid=run-chart][data-chart=train-log-probs] [data-testid=trend-line]")
      .evaluateAll((ls) => ls.map((l) => l.dataset.series));
    assert.ok(lp.includes("reference"), `${lp}`);
    await page.screenshot({ path: shot(how.startsWith("?") ? "run-flat-host.png" : "run-flat.png"), fullPage: true });
    assert.deepEqual(page.errors, []);
  });
}

const evalSeries = (page) => page.locator("[data-testid=run-chart][data-chart=reward] [data-testid=trend-line]")
  .evaluateAll((ls) => ls.map((l) => l.dataset.series).filter((s) => s.startsWith("eval/")));

test("a flat run: the user names the eval sets, and the link keeps the names", async () => {
  const page = await byHost();
  await page.locator("[data-testid=run-chart][data-chart=reward]").waitFor();
  const box = page.locator("[data-testid=eval-names]");
  await box.fill("math500, aime24");
  await box.press("Enter");
  await page.waitForFunction(() => decodeURIComponent(location.hash).includes("evalnames=math500,aime24"));
  assert.deepEqual(await evalSeries(page), ["eval/math500", "eval/aime24"]);
  // The pass@1 values are the sets' own, as in slime's reference (math500 first).
  const hash = await page.evaluate(() => location.hash);
  const again = await byHost(hash);
  await again.locator("[data-testid=run-chart][data-chart=reward]").waitFor();
  assert.deepEqual(await evalSeries(again), ["eval/math500", "eval/aime24"]);
  assert.equal(await again.locator("[data-testid=eval-names]").inputValue(), "math500,aime24");
  assert.deepEqual(page.errors, []);
  assert.deepEqual(again.errors, []);
});

async function openSample(page, rollout, position) {
  await page.locator(`tr[data-testid=run-step][data-rollout-id='${rollout}'][data-kind=train]`).click();
  await page.waitForFunction(() => document.querySelector("[data-testid=run-step-view]")?.dataset.state === "ready");
  await page.locator(`[data-testid=sample-row][data-position='${position}']`).click();
  await page.waitForFunction((p) => document.querySelector("[data-testid=sample-inspector]")?.dataset.position === String(p), position);
  await page.locator("[data-testid=sample-tokens]").waitFor();
}

test("a flat run: the token view offers the reference log probs and train − reference", async () => {
  const page = await byFolder();
  await openSample(page, 2, 0);
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

test("a flat run: the prompt's tokens come before the response, and the loss mask is drawn", async () => {
  const page = await byHost();
  // Find a sample with tool output (loss_mask 0): the fixture has 3–9 per rollout.
  let masked = 0;
  for (let p = 0; p < 24 && masked === 0; p++) {
    if (p === 0) await openSample(page, 3, 0);
    else {
      await page.locator(`[data-testid=sample-row][data-position='${p}']`).click();
      await page.waitForFunction((q) => document.querySelector("[data-testid=sample-inspector]")?.dataset.position === String(q), p);
    }
    masked = Number(await page.locator("[data-testid=token-mask]").getAttribute("data-masked"));
  }
  assert.ok(masked > 0, "a sample with masked tokens");
  const view = page.locator("[data-testid=sample-tokens]");
  // The prompt: decoded tokens in their own style, ending in the chat template's generation prompt.
  const prompt = view.locator("[data-testid=token-prompt]");
  const n = Number(await prompt.getAttribute("data-prompt-count"));
  assert.ok(n > 0, "prompt tokens");
  assert.equal(await prompt.locator(".tok-prompt").count(), Math.min(n, 4000));
  // (A newline is drawn as a faint ↵ before the line break.)
  const text = (await prompt.evaluate((el) => el.textContent)).replaceAll("↵\n", "\n");
  assert.ok(text.startsWith("<|im_start|>") && text.endsWith("<|im_start|>assistant\n"), JSON.stringify(text.slice(-80)));
  // Before the response in the same box, and styled apart from it.
  const order = await view.evaluate((v) => {
    const p = v.querySelector(".tok-prompt"), r = v.querySelector("[data-i]");
    return p.compareDocumentPosition(r) & Node.DOCUMENT_POSITION_FOLLOWING;
  });
  assert.ok(order, "prompt tokens precede the response's");
  const styles = await view.evaluate((v) => {
    const s = (el) => { const c = getComputedStyle(el); return `${c.fontStyle}|${c.backgroundColor}|${c.backgroundImage}`; };
    const plain = [...v.querySelectorAll("[data-i]")].find((e) => !e.classList.contains("tok-tool"));
    return { prompt: s(v.querySelector(".tok-prompt")), plain: s(plain), masked: s(v.querySelector("[data-i].tok-tool")) };
  });
  assert.notEqual(styles.prompt, styles.plain);
  // Masked tokens: as many hatched as the legend says, and visibly different.
  assert.equal(await view.locator("[data-i].tok-tool").count(), masked);
  assert.notEqual(styles.masked.split("|")[2], styles.plain.split("|")[2], JSON.stringify(styles));
  await view.locator("[data-i].tok-tool").first().hover();
  assert.match(await page.locator("[data-testid=token-tip]").innerText(), /loss_mask 0, not trained on/);
  await view.locator(".tok-prompt").last().hover();
  assert.match(await page.locator("[data-testid=token-tip]").innerText(), /^prompt token \d+ · id \d+/);
  await view.screenshot({ path: shot("run-flat-prompt-mask.png") });
  assert.deepEqual(page.errors, []);
});

test("a sample's images: PIL images drawn, what cannot be drawn said", async () => {
  // The hostile catalogue's huge_pil_images.pt as a one-rollout run.
  const cat = fs.mkdtempSync(path.join(os.tmpdir(), "rs-img-cat-"));
  execFileSync("cargo", ["run", "-q", "-p", "picklegen", "--example", "hostile", "--", cat], { cwd: ROOT, stdio: "pipe" });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-img-run-"));
  fs.copyFileSync(path.join(cat, "huge_pil_images.pt"), path.join(dir, "rollout_0.pt"));
  const page = await byFolder(dir);
  await page.locator("tr[data-testid=run-step][data-rollout-id='0']").click();
  await page.waitForFunction(() => document.querySelector("[data-testid=run-step-view]")?.dataset.state === "ready");
  await page.locator("[data-testid=sample-row][data-position='0']").click();
  const imgs = page.locator("[data-testid=sample-images]");
  await imgs.waitFor();
  assert.equal(await imgs.locator("canvas[data-testid=sample-image]").count(), 2);
  const px = await imgs.locator("canvas[data-testid=sample-image]").first().evaluate((c) =>
    [c.width, c.height, ...c.getContext("2d").getImageData(5, 5, 1, 1).data]);
  assert.deepEqual(px, [160, 160, 128, 128, 128, 255]);
  const notes = await imgs.locator("[data-testid=sample-image-note]").allInnerTexts();
  assert.equal(notes.length, 3);
  assert.match(notes[0], /the dump holds 3/);
  assert.match(notes[1], /absurd/);
  assert.match(notes[2], /1 more inputs/);
  await imgs.screenshot({ path: shot("run-images.png") });
  assert.deepEqual(page.errors, []);
  fs.rmSync(cat, { recursive: true, force: true });
  fs.rmSync(dir, { recursive: true, force: true });
});

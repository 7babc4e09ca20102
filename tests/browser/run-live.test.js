// A live run (issue #21): `rollscope DIR` serves a folder that is still being written; the
// run explorer polls its index and adds new dumps without a reload. The test opens the run,
// opens a step and a sample, then writes two more dumps (one first cut short, as torch.save
// leaves a file mid-write) and checks both appear once complete (waited for up to 20 s: the
// path is a 2 s page poll, a server relist at least 1 s after the last, a fetch and a parse,
// all slower on a loaded machine; the time taken is logged), the cut one
// shows as "being written" (never an error), the open step and sample stay, and no dump is
// read twice. Chromium only: the Firefox driver has no request events, and selecting a
// sample in the step view did not complete there when tried (the other step-view tests are
// Chromium-only too); the folder Reload test needs a folder in a file input (not in BiDi).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn } from "node:child_process";
import { serve, launch, newPage, shot, ROOT, RUN, ROLLSCOPE_BIN as BIN } from "./helpers.js";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** `rollscope DIR --port 0 --no-open`: the child and the URL it prints. */
async function rollscope(dir) {
  const child = spawn(BIN, [dir, "--port", "0", "--no-open"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (c) => { err += c; });
  child.stdout.setEncoding("utf8");
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no address in 20 s; stderr ${err}`)), 20000);
    child.on("exit", (code) => reject(new Error(`rollscope exited (${code}); stderr ${err}`)));
    child.stdout.on("data", (c) => {
      out += c;
      const u = out.split(/\s+/).find((w) => w.startsWith("http://"));
      if (u) { clearTimeout(timer); resolve(u); }
    });
  });
  return { child, url };
}

const row = (id) => `[data-testid=run-step][data-rollout-id="${id}"][data-kind=train]`;

test("a served run gains two dumps while open: both appear, the open step and sample stay", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-live-"));
  const put = (f, bytes) => fs.writeFileSync(path.join(dir, f), bytes ?? fs.readFileSync(path.join(RUN, f)));
  fs.mkdirSync(path.join(dir, "rollout_data"));
  fs.mkdirSync(path.join(dir, "train_data"));
  for (const id of [0, 1, 2]) {
    put(`rollout_data/${id}.pt`);
    put(`train_data/${id}.pt`);
  }
  const { child, url } = await rollscope(dir);
  const page = await newPage(browser);
  // Whole reads of each dump file (a `Range` request is the being-written check).
  const reads = {};
  page.on("request", (r) => {
    const m = r.url().match(/\/f\/rollout_data\/(\d+)\.pt$/);
    if (m && !r.headers().range) reads[m[1]] = (reads[m[1]] || 0) + 1;
  });
  try {
    await page.goto(url);
    for (const id of [0, 1, 2]) {
      await page.waitForFunction((s) => document.querySelector(s)?.dataset.state === "ready", row(id), { timeout: 30000 });
    }
    assert.equal(await page.locator("[data-testid=run-live]").count(), 1, "a served run says it is live");
    // Open rollout 1's step and select sample 3.
    await page.locator(row(1)).click();
    await page.locator("[data-testid=sample-row][data-position=\"3\"]").waitFor({ timeout: 30000 });
    await page.locator("[data-testid=sample-row][data-position=\"3\"]").click();
    await page.waitForFunction(() => document.querySelector("[data-testid=sample-inspector]")?.dataset.position === "3"
      && document.querySelector("[data-testid=sample-response]"), null, { timeout: 30000 });
    const response = await page.locator("[data-testid=sample-response]").innerText();

    // Rollout 3 mid-write (half a torch ZIP, no central directory) and rollout 4 whole.
    const whole3 = fs.readFileSync(path.join(RUN, "rollout_data/3.pt"));
    put("rollout_data/3.pt", whole3.subarray(0, whole3.length >> 1));
    put("train_data/4.pt");
    put("rollout_data/4.pt");
    let t0 = Date.now();
    await page.waitForFunction((s) => document.querySelector(s)?.dataset.state === "ready", row(4), { timeout: 20000 });
    const seen4 = Date.now() - t0;
    await page.waitForFunction((s) => document.querySelector(s)?.dataset.state === "writing", row(3), { timeout: 20000 });
    assert.match(await page.locator(`${row(3)} [data-testid=run-step-writing]`).innerText(), /being written/);
    assert.equal(await page.locator("[data-testid=run-error]").count(), 0);
    assert.match(await page.locator("[data-testid=run-writing]").innerText(), /1 being written/);
    await page.evaluate((s) => document.querySelector(s).scrollIntoView({ block: "center" }), row(3));
    await page.screenshot({ path: shot("run-live-writing.png") });

    // Completed: read once, shown without a reload.
    put("rollout_data/3.pt", whole3);
    put("train_data/3.pt");
    t0 = Date.now();
    await page.waitForFunction((s) => document.querySelector(s)?.dataset.state === "ready", row(3), { timeout: 20000 });
    const seen3 = Date.now() - t0;
    assert.equal(await page.locator("[data-testid=run-writing]").count(), 0);
    assert.equal(await page.locator("[data-testid=run-step-error]").count(), 0);

    // The open step and sample stayed; the trends and the table have all five rollouts.
    assert.equal(await page.locator(`${row(1)}.open`).count(), 1, "rollout 1 is still the open step");
    assert.equal(await page.locator("[data-testid=sample-inspector]").getAttribute("data-position"), "3");
    assert.equal(await page.locator("[data-testid=sample-response]").innerText(), response);
    assert.match(await page.locator("[data-testid=run-step-view] h3").first().innerText(), /rollout 1\b/);
    assert.equal(await page.locator("[data-testid=run]").getAttribute("data-state"), "ready");
    assert.equal(await page.locator("[data-testid=run]").getAttribute("data-done"), "5");
    assert.match(await page.locator("[data-testid=run-progress]").innerText(), /5 \/ 5 dumps/);

    // Each dump read whole once (rollout 1 once more: its open step); 3 only once complete.
    assert.deepEqual({ ...reads }, { 0: 1, 1: 2, 2: 1, 3: 1, 4: 1 }, JSON.stringify(reads));
    assert.deepEqual(page.errors, []);
    await page.screenshot({ path: shot("run-live.png") });
    console.log(`rollout 4 shown ${seen4} ms after written, rollout 3 ${seen3} ms after completed`);
  } finally {
    await page.close();
    child.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a folder opened from disk: Reload (the folder picked again) adds the new dump, the open sample stays", async () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "rs-reload-"));
  const dir = path.join(base, "run");
  fs.mkdirSync(path.join(dir, "rollout_data"), { recursive: true });
  const put = (f) => fs.copyFileSync(path.join(RUN, f), path.join(dir, f));
  put("rollout_data/0.pt");
  put("rollout_data/1.pt");
  const srv = await serve();
  const page = await newPage(browser);
  try {
    await page.goto(srv.url);
    await page.locator("[data-testid=run-input]").waitFor({ state: "attached", timeout: 30000 });
    await page.setInputFiles("[data-testid=run-input]", dir);
    await page.waitForFunction((s) => document.querySelector(s)?.dataset.state === "ready", row(1), { timeout: 30000 });
    assert.equal(await page.locator("[data-testid=run-reload]").isVisible(), true, "a folder has Reload");
    assert.equal(await page.locator("[data-testid=run-live]").count(), 0);
    await page.locator(row(0)).click();
    await page.locator("[data-testid=sample-row][data-position=\"5\"]").click();
    await page.waitForFunction(() => document.querySelector("[data-testid=sample-inspector]")?.dataset.position === "5", null, { timeout: 30000 });

    put("rollout_data/2.pt");
    put("rollout_data/eval_0.pt");
    // The fallback of Reload where no directory handle is at hand: the folder chosen again.
    await page.setInputFiles("[data-testid=run-reload-input]", dir);
    await page.waitForFunction((s) => document.querySelector(s)?.dataset.state === "ready", row(2), { timeout: 10000 });
    await page.waitForFunction(() => document.querySelector("[data-testid=run-step][data-kind=eval]")?.dataset.state === "ready", null, { timeout: 10000 });
    assert.equal(await page.locator(`${row(0)}.open`).count(), 1);
    assert.equal(await page.locator("[data-testid=sample-inspector]").getAttribute("data-position"), "5");
    assert.equal(await page.locator("[data-testid=run]").getAttribute("data-done"), "4");
    assert.deepEqual(page.errors, []);
  } finally {
    await page.close();
    srv.server.close();
    fs.rmSync(base, { recursive: true, force: true });
  }
});

// The run explorer survives any series (issue 24, item 6): a sample without token ids whose
// train data names 16 777 216 values (a few KB on disk, stride 0) and no tokenizer. The token
// view draws a bounded summary instead of a cell per value, the app keeps answering, and no
// trap banner appears. A 904 KB response of 450 000 tokens (with a tokenizer) opens in
// bounded time, its text and its tokens in pages, and the page is never blocked for seconds. A trap in the run
// app shows a banner with its message and a way on.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { serve, launch, newPage, shot, ROOT } from "./helpers.js";

let srv, browser, run, longResponse;
before(async () => {
  run = fs.mkdtempSync(path.join(os.tmpdir(), "rollscope-long-run-"));
  execFileSync("cargo", ["run", "-q", "-p", "picklegen", "--example", "long_series_run", "--", run],
    { cwd: ROOT, stdio: "inherit" });
  longResponse = fs.mkdtempSync(path.join(os.tmpdir(), "rollscope-long-response-"));
  execFileSync("cargo", ["run", "-q", "-p", "picklegen", "--example", "long_series_run", "--",
    longResponse, "--long-response"], { cwd: ROOT, stdio: "inherit" });
  srv = await serve();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  srv?.server.close();
  if (run) fs.rmSync(run, { recursive: true, force: true });
  if (longResponse) fs.rmSync(longResponse, { recursive: true, force: true });
});

/** Opens the run folder `dir` and its step 0. */
async function openStep(page, dir) {
  await page.goto(srv.url);
  await page.locator("[data-testid=run-input]").waitFor({ state: "attached", timeout: 30000 });
  await page.setInputFiles("[data-testid=run-input]", dir);
  await page.locator("[data-testid=run-step][data-rollout-id=\"0\"][data-kind=train]").click({ timeout: 60000 });
}

test("a 16 M-value train series is summarised in bounded columns, and the app stays alive", async () => {
  const page = await newPage(browser);
  await openStep(page, run);
  await page.locator("[data-testid=sample-row][data-position=\"0\"]").click({ timeout: 60000 });
  const tokens = page.locator("[data-testid=sample-tokens]");
  await tokens.waitFor({ timeout: 120000 });
  assert.equal(await tokens.getAttribute("data-mode"), "summary");
  assert.equal(Number(await tokens.getAttribute("data-token-count")), 1 << 24);
  const columns = await tokens.locator(".tok-col").count();
  assert.ok(columns > 0 && columns <= 1024, `${columns} columns`);
  assert.equal(await tokens.locator("[data-i]").count(), 0, "no cell per token");
  assert.match(await page.locator("[data-testid=token-summary]").innerText(), /16777216 tokens/);
  // A column's tooltip gives its range and numbers (columns may be narrower than a pixel:
  // point at the strip's middle).
  const strip = tokens.locator(".tok-summary");
  await strip.scrollIntoViewIfNeeded();
  const box = await strip.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  const tip = page.locator("[data-testid=token-tip]");
  await tip.waitFor({ timeout: 20000 });
  assert.match(await tip.innerText(), /tokens \d+–\d+ .*\n.*min 0\.5000 · mean 0\.5000 · max 0\.5000/s);
  await page.screenshot({ path: shot("run-long-series.png") });
  // Still alive: the sample can be selected again, and no trap was reported.
  await page.locator("[data-testid=sample-row][data-position=\"0\"]").click();
  await tokens.waitFor({ timeout: 30000 });
  assert.equal(await page.locator("[data-testid=run-crashed]").count(), 0);
  assert.deepEqual(page.errors, []);
});

test("a 904 KB response of 450 000 tokens opens in bounded time, as text in pages, never blocking the page for seconds", async () => {
  const page = await newPage(browser);
  await page.goto(srv.url);
  // A heartbeat: the longest gap between its ticks is the longest the main thread was busy.
  await page.evaluate(() => {
    window.__longestGap = 0;
    let last = performance.now();
    setInterval(() => {
      const now = performance.now();
      window.__longestGap = Math.max(window.__longestGap, now - last);
      last = now;
    }, 20);
  });
  const started = Date.now();
  await page.locator("[data-testid=run-input]").waitFor({ state: "attached", timeout: 30000 });
  await page.setInputFiles("[data-testid=run-input]", longResponse);
  await page.locator("[data-testid=run-step][data-rollout-id=\"0\"][data-kind=train]").click({ timeout: 60000 });
  await page.locator("[data-testid=sample-row][data-position=\"0\"]").click({ timeout: 60000 });
  const tokens = page.locator("[data-testid=sample-tokens]");
  await tokens.waitFor({ timeout: 60000 });
  await page.locator("[data-testid=sample-response]").waitFor({ timeout: 60000 });
  const took = Date.now() - started;
  const gap = await page.evaluate(() => window.__longestGap);
  assert.equal(await tokens.getAttribute("data-mode"), "text");
  assert.equal(Number(await tokens.getAttribute("data-token-count")), 450000);
  // The first page of text, and a way to the next: never 450 000 spans at once.
  assert.equal(await tokens.locator("[data-i]").count(), 4000);
  const more = page.locator("[data-testid=token-more]");
  assert.match(await more.innerText(), /show 4000 more tokens \(4000 of 450000 shown\)/);
  // The response too: its first 50 000 characters, and a way to the next.
  const response = page.locator("[data-testid=sample-response]");
  assert.equal((await response.textContent()).length, 50000);
  const moreText = page.locator("[data-testid=response-more]");
  assert.match(await moreText.innerText(), /show 50000 more characters \(50000 of 904000 shown\)/);
  await moreText.click();
  await page.waitForFunction(() => document.querySelector("[data-testid=sample-response]").textContent.length === 100000,
    null, { timeout: 10000 });
  // Both are wall-clock figures a slow, loaded machine stretches (how fast it opens is a
  // target for `cargo xtask bench`): the bounds are for a hang and a page frozen for seconds.
  // The gap is also held to half the open, whatever the machine: a page that blocks for the
  // whole open (the parse on the main thread, all spans at once) has one gap as long as it.
  console.log(`opened in ${took} ms; the main thread's longest task ${Math.round(gap)} ms`);
  assert.ok(took < 60000, `opened in ${took} ms`);
  assert.ok(gap < 5000, `the main thread was blocked for ${Math.round(gap)} ms`);
  assert.ok(gap < took / 2, `the main thread was blocked for ${Math.round(gap)} ms of the ${took} ms open`);
  await more.click();
  await page.waitForFunction(() => document.querySelectorAll("[data-testid=sample-tokens] [data-i]").length === 8000,
    null, { timeout: 10000 });
  assert.equal(await page.locator("[data-testid=run-crashed]").count(), 0);
  assert.deepEqual(page.errors, []);
});

test("a trap in the run app shows a banner with its message and a way on (reload)", async () => {
  const page = await newPage(browser);
  await openStep(page, run);
  await page.locator("[data-testid=sample-row][data-position=\"0\"]").waitFor({ timeout: 60000 });
  assert.equal(await page.locator("[data-testid=run-crashed]").count(), 0);
  // What a trap in the run app's wasm looks like to the page: an uncaught RuntimeError whose
  // stack is in the run app's module.
  await page.evaluate(() => {
    const e = new WebAssembly.RuntimeError("unreachable");
    e.stack = "RuntimeError: unreachable\n    at runapp_bg.wasm:wasm-function[123]:0x4567";
    setTimeout(() => { throw e; });
  });
  const banner = page.locator("[data-testid=run-crashed]");
  await banner.waitFor({ timeout: 10000 });
  assert.match(await banner.innerText(), /The run explorer stopped \(.*unreachable.*\)\. What it shows now may be stale\. Reload the page and open the run again\./s);
  assert.equal(await banner.getAttribute("role"), "alert");
  // The timeline page's own errors are not the run app's: one banner, and only for the first.
  await page.evaluate(() => setTimeout(() => { throw new Error("second"); }));
  await page.waitForTimeout(300);
  assert.equal(await page.locator("[data-testid=run-crashed]").count(), 1);
  // The way on: the link reloads the page, which starts clean.
  await banner.locator("a").click();
  await page.locator("[data-testid=run-input]").waitFor({ state: "attached", timeout: 30000 });
  assert.equal(await page.locator("[data-testid=run-crashed]").count(), 0);
});

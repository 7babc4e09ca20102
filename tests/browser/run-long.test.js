// The run explorer survives any series (issue 24, item 6): a sample without token ids whose
// train data names 16 777 216 values (a few KB on disk, stride 0) and no tokenizer. The token
// view draws a bounded summary instead of a cell per value, the app keeps answering, and no
// trap banner appears.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { serve, launch, newPage, shot, ROOT } from "./helpers.js";

let srv, browser, run;
before(async () => {
  run = fs.mkdtempSync(path.join(os.tmpdir(), "rollscope-long-run-"));
  execFileSync("cargo", ["run", "-q", "-p", "picklegen", "--example", "long_series_run", "--", run],
    { cwd: ROOT, stdio: "inherit" });
  srv = await serve();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  srv?.server.close();
  if (run) fs.rmSync(run, { recursive: true, force: true });
});

test("a 16 M-value train series is summarised in bounded columns, and the app stays alive", async () => {
  const page = await newPage(browser);
  await page.goto(srv.url);
  await page.locator("[data-testid=run-input]").waitFor({ state: "attached", timeout: 30000 });
  await page.setInputFiles("[data-testid=run-input]", run);
  await page.locator("[data-testid=run-step][data-rollout-id=\"0\"][data-kind=train]").click({ timeout: 60000 });
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
  await tip.waitFor({ timeout: 5000 });
  assert.match(await tip.innerText(), /tokens \d+–\d+ .*\n.*min 0\.5000 · mean 0\.5000 · max 0\.5000/s);
  await page.screenshot({ path: shot("run-long-series.png") });
  // Still alive: the sample can be selected again, and no trap was reported.
  await page.locator("[data-testid=sample-row][data-position=\"0\"]").click();
  await tokens.waitFor({ timeout: 30000 });
  assert.equal(await page.locator("[data-testid=run-crashed]").count(), 0);
  assert.deepEqual(page.errors, []);
});

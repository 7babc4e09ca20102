// Interop in the viewer: Prometheus series on top of a dump, OTLP import, export downloads.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { serve, launch, newPage, waitState, count, shot, reference, FIXTURES } from "./helpers.js";

let srv, browser;
before(async () => { srv = await serve(); browser = await launch(); });
after(async () => { await browser?.close(); srv?.server.close(); });

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "rs-interop-"));
const tracks = (page) => page.locator("[data-testid=track-list] li").count();

test("a Prometheus query_range file dropped after a dump adds a counter track", async () => {
  const page = await newPage(browser);
  await page.goto(`${srv.url}?url=fixtures/pd_1.pt`);
  assert.equal(await waitState(page, ["ready"]), "ready");
  const before = await tracks(page);
  const top = () => page.locator("canvas[data-testid=timeline]").getAttribute("data-rows-top").then(Number);
  const topBefore = await top();
  const ref = reference("pd_1.pt");
  const values = [];
  for (let t = ref.global_start; t <= ref.global_end; t += 1) values.push([t, String(Math.round(5 + 3 * Math.sin(t)))]);
  const file = path.join(tmp(), "running.json");
  fs.writeFileSync(file, JSON.stringify({ status: "success", data: { resultType: "matrix", result: [
    { metric: { __name__: "sglang:num_running_reqs", instance: "node-1:30000" }, values },
  ] } }));
  await page.locator("[data-testid=file-input]").setInputFiles(file);
  await page.waitForFunction((n) => document.querySelectorAll("[data-testid=track-list] li").length === n + 1, before);
  assert.equal(await waitState(page, ["ready"]), "ready");
  assert.equal(await count(page, "row-count"), ref.sample_count, "the dump stays");
  assert.match(await page.locator("[data-testid=track-list]").innerText(), /sglang:num_running_reqs\{instance="node-1:30000"\}/);
  assert.ok((await top()) > topBefore, "one more track above the rows");
  await page.screenshot({ path: shot("pd_1-prometheus.png") });
  assert.deepEqual(page.errors, []);
});

test("an OTLP/JSON export opens as rows, and the export buttons (written in the worker) download valid files", async () => {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1600, height: 1000 } });
  const page = await context.newPage();
  await page.goto(`${srv.url}?url=fixtures/agent_2.pt`);
  assert.equal(await waitState(page, ["ready"]), "ready");
  const dir = tmp();
  const saved = {};
  for (const kind of ["otlp", "chrome", "cache"]) {
    const [dl] = await Promise.all([page.waitForEvent("download"), page.locator(`[data-testid=export-${kind}]`).click()]);
    saved[kind] = path.join(dir, dl.suggestedFilename());
    await dl.saveAs(saved[kind]);
  }
  const otlp = JSON.parse(fs.readFileSync(saved.otlp, "utf8"));
  assert.equal(otlp.resourceSpans.length, reference("agent_2.pt").sample_count);
  // The cache export is slime's cache, written by the worker: the reference's rows.
  const cache = JSON.parse(fs.readFileSync(saved.cache, "utf8"));
  assert.match(path.basename(saved.cache), /^agent_2\.trace_timeline_cache\.json$/);
  assert.equal(cache.rows.length, reference("agent_2.pt").rows.length);
  assert.deepEqual(cache.rows.map((r) => r.items.length), reference("agent_2.pt").rows.map((r) => r.items.length));
  const chrome = JSON.parse(fs.readFileSync(saved.chrome, "utf8"));
  assert.ok(chrome.traceEvents.some((e) => e.ph === "X" && e.name === "sglang_generate"));
  // The OTLP file opens as rows again.
  await page.locator("[data-testid=file-input]").setInputFiles(saved.otlp);
  await page.waitForFunction(() => document.querySelector(".file-name").innerText.endsWith("otlp.json"));
  assert.equal(await waitState(page, ["ready"]), "ready");
  assert.equal(await count(page, "row-count"), reference("agent_2.pt").sample_count);
  await context.close();
});

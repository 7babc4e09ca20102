// Interop in the viewer: Prometheus series on top of a dump, OTLP import, export downloads.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { serve, launch, newPage, waitState, count, shot, reference, download } from "./helpers.js";

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

test("an OTLP/JSON export (the worker's, downloaded) opens as rows again", async () => {
  // The exports' contents are checked in both browsers in viewer.test.js.
  const page = await newPage(browser);
  await page.goto(`${srv.url}?url=fixtures/agent_2.pt`);
  assert.equal(await waitState(page, ["ready"]), "ready");
  const otlp = await download(page, () => page.locator("[data-testid=export-otlp]").click());
  await page.locator("[data-testid=file-input]").setInputFiles(otlp.file);
  await page.waitForFunction(() => document.querySelector(".file-name").innerText.endsWith("otlp.json"));
  assert.equal(await waitState(page, ["ready"]), "ready");
  assert.equal(await count(page, "row-count"), reference("agent_2.pt").sample_count);
  assert.deepEqual(page.errors, []);
});

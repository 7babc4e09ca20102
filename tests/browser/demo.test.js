// Issue 3's smoke test: the served page loads the bundled demo dump and shows its rows.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { serve, launch, newPage, waitState, count, shot } from "./helpers.js";

let srv, browser;
before(async () => { srv = await serve(); browser = await launch(); });
after(async () => { await browser?.close(); srv?.server.close(); });

test("the demo dump loads by default and shows rows", async () => {
  const page = await newPage(browser);
  await page.goto(srv.url);
  assert.equal(await waitState(page, ["ready", "error"]), "ready");
  const rows = await count(page, "row-count");
  assert.ok(rows > 0, `row-count is ${rows}`);
  assert.ok((await count(page, "span-count")) > rows);
  await page.screenshot({ path: shot("demo.png") });
  // Scripts run only from this origin or by hash: no 'unsafe-inline', no eval.
  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute("content");
  const scriptSrc = csp.match(/script-src[^;]*/)[0];
  assert.doesNotMatch(scriptSrc, /'unsafe-inline'|'unsafe-eval'/);
  assert.match(scriptSrc, /'sha256-/);
  assert.deepEqual(page.errors, []);
});

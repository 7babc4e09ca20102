// The `rollscope` binary as users meet it: serving a dump, the one-file report, embedding.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import http from "node:http";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { serve, launch, newPage, waitState, count, shot, reference, startRollscope as rollscope, FIXTURES, ROOT, RUN, ROLLSCOPE_BIN as BIN } from "./helpers.js";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** A raw GET with a chosen Host header (fetch may not set Host). */
function getWithHost(url, host) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, headers: { host } }, (res) => {
      const parts = [];
      res.on("data", (c) => parts.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.setTimeout(10000, () => req.destroy(new Error(`GET ${url} with Host ${host}: no answer in 10 s`)));
    req.on("error", reject);
    req.end();
  });
}

test("`rollscope <dump>` serves the viewer, which shows the dump's rows", async () => {
  const { child, url } = await rollscope([path.join(FIXTURES, "agent_2.pt")]);
  try {
    // The dump's URL carries a per-run 128-bit token.
    const dumpRel = new URL(url).searchParams.get("url");
    assert.match(dumpRel, /^d\/[0-9a-f]{32}\/agent_2\.pt$/);
    const origin = new URL(url).origin;
    const index = await fetch(origin + "/");
    assert.equal(index.status, 200);
    assert.equal(index.headers.get("x-frame-options"), "DENY");
    assert.equal(index.headers.get("content-security-policy"), "frame-ancestors 'none'");
    assert.equal(index.headers.get("referrer-policy"), "no-referrer");
    const html = await index.text();
    const wasmName = html.match(/href="\.\/(viewer-[0-9a-f]+_bg\.wasm)"/)[1];
    const wasm = await fetch(`${origin}/${wasmName}`, { headers: { "accept-encoding": "gzip" } });
    assert.equal(wasm.status, 200);
    assert.equal(wasm.headers.get("content-type"), "application/wasm");
    assert.equal(wasm.headers.get("content-encoding"), "gzip");
    assert.match(wasm.headers.get("cache-control"), /immutable/);
    const dump = await fetch(`${origin}/${dumpRel}`);
    assert.equal(dump.status, 200);
    const wrong = await fetch(`${origin}/${dumpRel.replace(/[0-9a-f](?=\/)/, (c) => (c === "0" ? "1" : "0"))}`);
    assert.equal(wrong.status, 404, "a wrong token is not found");
    const page = await newPage(browser);
    await page.goto(url);
    assert.equal(await waitState(page, ["ready", "error"]), "ready");
    assert.equal(await count(page, "row-count"), reference("agent_2.pt").sample_count);
    assert.deepEqual(page.errors, []);
  } finally {
    child.kill();
  }
});

test("`rollscope DIR` serves a run folder: the viewer opens the run explorer on it", async () => {
  const { child, url } = await rollscope([RUN]);
  try {
    const runRel = new URL(url).searchParams.get("run");
    assert.match(runRel, /^r\/[0-9a-f]{32}\/index\.json$/);
    const origin = new URL(url).origin;
    const index = await (await fetch(`${origin}/${runRel}`)).json();
    assert.ok(index.files.some((f) => f.path === "rollout_data/3.pt"), JSON.stringify(index.files));
    const page = await newPage(browser);
    await page.goto(url);
    await page.waitForFunction(() => ["ready", "error"].includes(document.querySelector("[data-testid=run]")?.dataset.state),
      null, { timeout: 60000 });
    assert.equal(await page.evaluate(() => document.querySelector("[data-testid=run]").dataset.state), "ready");
    const ref = JSON.parse(fs.readFileSync(path.join(RUN, "run_reference.json"), "utf8"));
    const rows = await page.locator("[data-testid=run-step]").evaluateAll(
      (els) => els.map((e) => `${e.dataset.kind}:${e.dataset.rolloutId}`));
    assert.deepEqual(rows.sort(), ref.rollouts.map((r) => `${r.kind}:${r.rollout_id}`).sort());
    // A step's samples come through the host too (dump and train data by their listed URLs).
    await page.locator('[data-testid=run-step][data-rollout-id="2"][data-kind="train"]').click();
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=sample-row]").length === 24, null, { timeout: 60000 });
    await page.screenshot({ path: shot("host-run.png") });
    assert.deepEqual(page.errors, []);
  } finally {
    child.kill();
  }
});

test("`rollscope <dump>` answers only to its own Host and cannot be framed", async () => {
  const { child, url } = await rollscope([path.join(FIXTURES, "pd_1.pt")]);
  try {
    const u = new URL(url);
    const dumpUrl = `${u.origin}/${u.searchParams.get("url")}`;
    const bytes = fs.readFileSync(path.join(FIXTURES, "pd_1.pt"));
    for (const target of [`${u.origin}/`, dumpUrl]) {
      const ok = await getWithHost(target, `localhost:${u.port}`);
      assert.equal(ok.status, 200, target);
      // A page that rebinds its own name to 127.0.0.1 sends that name.
      const evil = await getWithHost(target, `rebind.example:${u.port}`);
      assert.equal(evil.status, 403, target);
      assert.ok(evil.body.length < 300 && !evil.body.includes(bytes.subarray(0, 64)), target);
    }
    // Another origin framing the local viewer gets a blocked frame, not the viewer.
    const srv = await serve();
    try {
      const page = await newPage(browser);
      await page.goto(srv.url + "fixtures/");
      await page.setContent(`<iframe id="f" src="${url}"></iframe>`);
      await page.waitForTimeout(1500);
      const framed = page.frames().find((f) => f !== page.mainFrame());
      const state = framed ? await framed.evaluate(() => document.body?.dataset?.state ?? null).catch(() => null) : null;
      assert.equal(state, null, "the viewer must not run inside a frame");
    } finally {
      srv.server.close();
    }
  } finally {
    child.kill();
  }
});

test("`rollscope html` writes one file that opens from file:// with no network", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-html-"));
  const input = path.join(dir, "pd_1.pt");
  fs.copyFileSync(path.join(FIXTURES, "pd_1.pt"), input);
  execFileSync(BIN, [input, "--no-serve"], { stdio: "pipe" });
  const out = path.join(dir, "pd_1.trace_timeline_viewer.html");
  assert.ok(fs.existsSync(out), "written beside the dump with slime's name");
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  const requests = [];
  await context.route("**/*", (route) => {
    const u = route.request().url();
    if (u.startsWith("file:") || u.startsWith("data:") || u.startsWith("blob:")) return route.continue();
    requests.push(u);
    return route.abort();
  });
  await context.setOffline(true);
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto("file://" + out);
  assert.equal(await waitState(page, ["ready", "error"]), "ready");
  assert.equal(await count(page, "row-count"), reference("pd_1.pt").sample_count);
  await page.screenshot({ path: shot("report-pd_1.png") });
  assert.deepEqual(requests, []);
  assert.deepEqual(errors, []);
  await context.close();
});

test("a parent page opens a dump in the embedded viewer through postMessage", async () => {
  const srv = await serve();
  try {
    const page = await newPage(browser);
    await page.goto(srv.url + "embed.html");
    await page.waitForFunction(() => document.getElementById("status").textContent === "viewer ready");
    await page.locator("#file").setInputFiles(path.join(FIXTURES, "basic_0.pt"));
    const frame = page.frameLocator("#viewer");
    await page.waitForFunction(() => {
      const doc = document.getElementById("viewer").contentDocument;
      return doc?.body?.dataset.state === "ready" && doc.querySelector("[data-testid=row-count]")?.innerText !== "0";
    });
    assert.equal(Number(await frame.locator("[data-testid=row-count]").innerText()), reference("basic_0.pt").sample_count);
  } finally {
    srv.server.close();
  }
});

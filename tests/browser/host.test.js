// The `rollscope` binary as users meet it: serving a dump, the one-file report, embedding.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { once } from "node:events";
import { serve, launch, newPage, waitState, count, shot, reference, FIXTURES, ROOT } from "./helpers.js";

const BIN = process.env.ROLLSCOPE_BIN || path.join(ROOT, "target/debug/rollscope");
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function rollscope(args) {
  const child = spawn(BIN, [...args, "--port", "0", "--no-open"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.setEncoding("utf8");
  while (!out.includes("\n")) {
    const [chunk] = await once(child.stdout, "data");
    out += chunk;
  }
  const url = out.split(/\s+/).find((w) => w.startsWith("http://"));
  return { child, url };
}

test("`rollscope <dump>` serves the viewer, which shows the dump's rows", async () => {
  const { child, url } = await rollscope([path.join(FIXTURES, "agent_2.pt")]);
  try {
    const origin = new URL(url).origin;
    const index = await fetch(origin + "/");
    assert.equal(index.status, 200);
    const html = await index.text();
    const wasmName = html.match(/href="\.\/(viewer-[0-9a-f]+_bg\.wasm)"/)[1];
    const wasm = await fetch(`${origin}/${wasmName}`, { headers: { "accept-encoding": "gzip" } });
    assert.equal(wasm.status, 200);
    assert.equal(wasm.headers.get("content-type"), "application/wasm");
    assert.equal(wasm.headers.get("content-encoding"), "gzip");
    assert.match(wasm.headers.get("cache-control"), /immutable/);
    const page = await newPage(browser);
    await page.goto(url);
    assert.equal(await waitState(page, ["ready", "error"]), "ready");
    assert.equal(await count(page, "row-count"), reference("agent_2.pt").sample_count);
    assert.deepEqual(page.errors, []);
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

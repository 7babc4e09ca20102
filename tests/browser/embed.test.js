// Embedding with `?origin=`: the viewer opens files only from its parent window and, when
// given `?origin=a,b`, only from those exact origins.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { serve, launch, newPage, reference, FIXTURES } from "./helpers.js";

let srv, browser;
before(async () => { srv = await serve(); browser = await launch(); });
after(async () => { await browser?.close(); srv?.server.close(); });

// The parent page lives on another origin: a second loopback server (http://127.0.0.1:Q,
// real, since Chromium's local network checks refuse a loopback iframe in a page that did
// not itself come from the local network), the viewer on the test server (127.0.0.1:P).
let parentSrv, parentBody = "";
const parentOrigin = () => `http://127.0.0.1:${parentSrv.address().port}`;
before(async () => {
  parentSrv = http.createServer((_, res) => { res.writeHead(200, { "content-type": "text/html" }); res.end(parentBody); });
  await new Promise((ok) => parentSrv.listen(0, "127.0.0.1", ok));
});
after(() => parentSrv?.close());

async function embedded(originParam) {
  const page = await newPage(browser);
  const viewer = `${srv.url}index.html?embed=1${originParam === undefined ? "" : `&origin=${encodeURIComponent(originParam)}`}`;
  parentBody = `<!doctype html><iframe id="viewer" src="${viewer}" style="width:1400px;height:800px"></iframe>
      <script>
        window.readyCount = 0;
        addEventListener("message", (e) => {
          if (e.source === document.getElementById("viewer").contentWindow && e.data?.type === "ready") window.readyCount++;
        });
        window.send = (name, bytes) => {
          const buffer = new Uint8Array(bytes).buffer;
          document.getElementById("viewer").contentWindow.postMessage({ type: "open", name, buffer }, "*", [buffer]);
        };
      </script>`;
  await page.goto(`${parentOrigin()}/parent.html`);
  let frame;
  for (let i = 0; i < 100 && !frame; i++) {
    frame = page.frames().find((f) => f.url().startsWith(srv.url));
    if (!frame) await page.waitForTimeout(100);
  }
  assert.ok(frame, "the viewer frame loads");
  await frame.waitForFunction(() => document.body.dataset.state === "idle");
  return { page, frame };
}

const bytes = [...fs.readFileSync(path.join(FIXTURES, "basic_0.pt"))];
const rows = reference("basic_0.pt").sample_count;

async function rowCount(frame) {
  return Number(await frame.locator("[data-testid=row-count]").innerText());
}

test("?origin= listing the parent's own origin: the file opens", async () => {
  const { page, frame } = await embedded(`https://other.example,${parentOrigin()}`);
  await page.waitForFunction(() => window.readyCount > 0, null, { timeout: 10000 });
  await page.evaluate(([n, b]) => window.send(n, b), ["basic_0.pt", bytes]);
  await frame.waitForFunction(() => document.body.dataset.state === "ready", null, { timeout: 30000 });
  assert.equal(await rowCount(frame), rows);
  assert.deepEqual(page.errors, []);
});

test("?origin= listing only another origin: the message is ignored, with a note", async () => {
  const { page, frame } = await embedded("https://other.example");
  await page.evaluate(([n, b]) => window.send(n, b), ["basic_0.pt", bytes]);
  await frame.waitForFunction((o) => (document.querySelector(".notice")?.innerText ?? "").includes(`ignored a file sent from ${o}`), parentOrigin(), { timeout: 10000 });
  await page.waitForTimeout(1000);
  assert.equal(await frame.evaluate(() => document.body.dataset.state), "idle", "nothing was loaded");
  assert.equal(await rowCount(frame), 0);
  // "ready" went only to the listed origin, which is not this parent's.
  assert.equal(await page.evaluate(() => window.readyCount), 0);
});

// The one-file report (`rollscope html`) opened from file:// with the network cut: its rows
// come through the parsing worker, which starts from a data: URL the report makes itself, so
// Open…, drag-drop and a worker replaced after a crash work there as on the served page.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { launch, waitState, count, shot, reference, FIXTURES, ROOT } from "./helpers.js";

const BIN = process.env.ROLLSCOPE_BIN || path.join(ROOT, "target/debug/rollscope");
let browser, dir;
before(async () => {
  browser = await launch();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-report-"));
});
after(async () => {
  await browser?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Writes the report of a fixture with the real binary; returns its path. */
function report(name) {
  const out = path.join(dir, name.replace(/\.pt$/, ".html"));
  execFileSync(BIN, ["html", path.join(FIXTURES, name), "-o", out], { stdio: "pipe" });
  return out;
}

/**
 * Opens `file` from file:// in a context with the network cut: every request that is not
 * file:, data: or blob: is recorded and refused. Collects page errors and console errors
 * (a CSP violation is reported on the console).
 */
async function openReport(file) {
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
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  await page.goto("file://" + file);
  return { context, page, requests, errors };
}

/** Waits for `name` to be shown, ready, with the reference's row count. */
async function shows(page, name) {
  assert.equal(await waitState(page, ["ready", "error"]), "ready",
    await page.locator("[data-testid=load-error]").innerText().catch(() => ""));
  await page.waitForFunction((n) => document.querySelector(".file-name")?.innerText === n, name);
  assert.equal(await count(page, "row-count"), reference(name).sample_count, name);
}

async function pending(page) {
  await page.evaluate(() => { document.body.dataset.state = "pending"; });
}

test("a report opens from file://, its rows come through a worker started from its data: URL", async () => {
  const { context, page, requests, errors } = await openReport(report("pd_1.pt"));
  try {
    await shows(page, "pd_1.pt");
    // The report made the worker's URL, and the page started its worker from it.
    const url = await page.evaluate(() => window.__rollscope_worker_url);
    assert.match(url, /^data:text\/javascript;charset=utf-8,/);
    assert.ok(page.workers().some((w) => w.url() === url),
      `a worker runs from the report's URL: ${page.workers().map((w) => w.url().slice(0, 60))}`);
    // The payload blocks are freed once read.
    assert.equal(await page.locator("script[type='application/octet-stream']").count(), 0);
    await page.screenshot({ path: shot("report-opened.png") });
    assert.deepEqual(requests, []);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test("a report carries the timeline only: its Open run folder… says where runs open", async () => {
  const { context, page, requests, errors } = await openReport(report("pd_1.pt"));
  try {
    await shows(page, "pd_1.pt");
    assert.equal(await page.locator("[data-testid=run-input]").count(), 0, "no folder input in a report");
    await page.locator("[data-testid=run-input-report]").click();
    assert.match(await page.locator(".toolbar .notice").innerText(), /served viewer .* not in a one-file report/);
    assert.equal(await page.locator("#run-root *").count(), 0, "no run app started");
    assert.deepEqual(requests, []);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test("Open… and drag-drop inside a report open other dumps (offline)", async () => {
  const { context, page, requests, errors } = await openReport(report("pd_1.pt"));
  try {
    await shows(page, "pd_1.pt");
    // Open…: the file input, as a user choosing a file.
    await pending(page);
    await page.locator("[data-testid=file-input]").setInputFiles(path.join(FIXTURES, "basic_0.pt"));
    await shows(page, "basic_0.pt");
    await page.screenshot({ path: shot("report-open-file.png") });
    // Drag-drop: a File in a DataTransfer, dropped on the app.
    await pending(page);
    const bytes = [...fs.readFileSync(path.join(FIXTURES, "legacy_6.pt"))];
    const dt = await page.evaluateHandle((b) => {
      const t = new DataTransfer();
      t.items.add(new File([new Uint8Array(b)], "legacy_6.pt"));
      return t;
    }, bytes);
    await page.dispatchEvent(".app", "dragover", { dataTransfer: dt });
    await page.dispatchEvent(".app", "drop", { dataTransfer: dt });
    await shows(page, "legacy_6.pt");
    await page.screenshot({ path: shot("report-drop-file.png") });
    assert.deepEqual(requests, []);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test("a report's worker that dies is replaced from the same data: URL and the next file opens", async () => {
  const { context, page, requests } = await openReport(report("agent_2.pt"));
  try {
    await shows(page, "agent_2.pt");
    await page.evaluate(() => window.__rs_worker_test("panic"));
    await page.waitForFunction(() => document.body.dataset.state === "error", null, { timeout: 10000 });
    assert.match(await page.locator("[data-testid=load-error]").innerText(), /the parsing worker stopped/);
    await pending(page);
    await page.locator("[data-testid=file-input]").setInputFiles(path.join(FIXTURES, "pdflat_5.pt"));
    await shows(page, "pdflat_5.pt");
    assert.deepEqual(requests, []);
  } finally {
    await context.close();
  }
});

test("neither a report's page nor its worker can fetch anything (its CSP, before the network)", async () => {
  const { context, page, requests } = await openReport(report("legacy_6.pt"));
  try {
    await shows(page, "legacy_6.pt");
    const url = await page.evaluate(() => window.__rollscope_worker_url);
    const worker = page.workers().find((w) => w.url() === url);
    assert.ok(worker, "the report's worker runs");
    const tryFetch = (u) => fetch(u).then(() => "fetched", (e) => `refused: ${e}`);
    for (const target of ["http://127.0.0.1:9/x.pt", "https://example.com/x.pt"]) {
      assert.match(await page.evaluate(tryFetch, target), /^refused/);
      assert.match(await worker.evaluate(tryFetch, target), /^refused/);
    }
    // The context's route records every request that reaches the network stage (a worker's
    // too): none did, so the CSP stopped them, not only the cut network.
    assert.deepEqual(requests, []);
  } finally {
    await context.close();
  }
});

test("exports inside a report download what the worker made (offline)", async () => {
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, acceptDownloads: true });
  await context.setOffline(true);
  try {
    const page = await context.newPage();
    await page.goto("file://" + report("pd_1.pt"));
    await shows(page, "pd_1.pt");
    const ref = reference("pd_1.pt");
    const download = async (id) => {
      const [d] = await Promise.all([page.waitForEvent("download", { timeout: 15000 }), page.locator(`[data-testid=${id}]`).click()]);
      return { name: d.suggestedFilename(), json: JSON.parse(fs.readFileSync(await d.path(), "utf8")) };
    };
    const cache = await download("export-cache");
    assert.equal(cache.name, "pd_1.trace_timeline_cache.json");
    assert.equal(cache.json.rows.length, ref.sample_count);
    assert.deepEqual(cache.json.rows.map((r) => r.trace_id), ref.rows.map((r) => r.trace_id));
    const chrome = await download("export-chrome");
    assert.equal(chrome.name, "pd_1.chrome.json");
    assert.ok(chrome.json.traceEvents.some((e) => e.name === "generate_and_rm_group"));
    const otlp = await download("export-otlp");
    assert.equal(otlp.name, "pd_1.otlp.json");
    assert.ok(otlp.json.resourceSpans.length > 0);
  } finally {
    await context.close();
  }
});

test("a report whose rows were cut short or changed says so in the page", async () => {
  const html = fs.readFileSync(report("pd_1.pt"), "utf8");
  const open = html.indexOf('<script class="rollscope-data"');
  const start = html.indexOf(">", open) + 1;
  const end = html.indexOf("</script>", start);
  assert.ok(open > 0 && end > start + 1000, "one rows block");
  const mid = start + Math.floor((end - start) / 2);
  const damaged = {
    // Cut in the middle of the rows, as a download or a full disk would leave it.
    "cut.html": html.slice(0, mid),
    // A run of base64 changed in place: still base64, but the gzip check fails.
    "changed.html": html.slice(0, mid) + "AAAAAAAA" + html.slice(mid + 8),
    // Not base64 at all.
    "garbled.html": html.slice(0, mid) + "*&!" + html.slice(mid + 3),
  };
  for (const [name, text] of Object.entries(damaged)) await unpackFails(dir, name, text);
});

/** `text` written as `name` in `dir` and opened: the rows cannot be unpacked, and the page
 * says so (and why, when `why` is given), fetching nothing. */
async function unpackFails(dir, name, text, why) {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  const { context, page, requests } = await openReport(file);
  try {
    assert.equal(await waitState(page, ["ready", "error"]), "error", name);
    const message = await page.locator("[data-testid=load-error]").innerText();
    assert.match(message, /pd_1\.pt: this report's rows could not be unpacked \(.+\): the file was cut short or changed/, `${name}: ${message}`);
    if (why) assert.match(message, why, `${name}: ${message}`);
    assert.deepEqual(requests, []);
  } finally {
    await context.close();
  }
}

/**
 * The report of pd_1 with its rows cut again into blocks of a third of the store each, as a
 * large dump's are (its scripts unchanged, so their hashes hold): the parts to put together.
 */
function reblocked(html) {
  const take = "</script>\n<script>__rollscope_rows.take()</script>\n";
  const open = html.indexOf('<script class="rollscope-data"');
  const start = html.indexOf(">", open) + 1;
  const end = html.indexOf(take, start);
  assert.ok(open > 0 && end > start && html.indexOf(take, end + 1) < 0, "one block of rows");
  const store = zlib.gunzipSync(Buffer.from(html.slice(start, end), "base64"));
  const piece = Math.ceil(store.length / 3);
  const first = html.slice(open, start);
  assert.match(first, /data-bytes="\d+" data-piece="\d+"/);
  const blocks = [];
  for (let at = 0; at < store.length; at += piece) {
    blocks.push(zlib.gzipSync(store.subarray(at, at + piece)).toString("base64"));
  }
  assert.equal(blocks.length, 3);
  const put = (blocks, bytes = store.length) => html.slice(0, open) +
    blocks.map((b, i) => (i === 0
      ? first.replace(/data-bytes="\d+" data-piece="\d+"/, `data-bytes="${bytes}" data-piece="${piece}"`)
      : '<script class="rollscope-data" type="application/octet-stream">') + b + take).join("") +
    html.slice(end + take.length);
  return { blocks, put, bytes: store.length };
}

test("a report's rows in several blocks open; a block missing, added or of another size says so", async () => {
  const { blocks, put, bytes } = reblocked(fs.readFileSync(report("pd_1.pt"), "utf8"));
  const whole = path.join(dir, "blocks.html");
  fs.writeFileSync(whole, put(blocks));
  {
    const { context, page, requests, errors } = await openReport(whole);
    try {
      await shows(page, "pd_1.pt");
      assert.equal(await page.locator("script.rollscope-data").count(), 0, "every block taken");
      assert.deepEqual(requests, []);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  }
  const damaged = {
    // Cut between two blocks: every block there is whole, but one is missing.
    "missing.html": [put(blocks.slice(0, 2)), /the rows end after block 2 of 3/],
    "added.html": [put([...blocks, blocks[2]]), /more blocks than the 3 the first one announces/],
    // One byte fewer than written: still three blocks whatever the store's size (one more
    // would announce a fourth when the size is a multiple of three).
    "resized.html": [put(blocks, bytes - 1), /block 3 of 3 holds \d+ bytes, not \d+/],
  };
  for (const [name, [text, why]] of Object.entries(damaged)) await unpackFails(dir, name, text, why);
});

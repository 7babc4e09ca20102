// The parsing worker fails: it is replaced, the page says what happened, and the next file
// opens. Failures are made by the worker's test hook (`window.__rs_worker_test(kind)`).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { serve, launch, newPage, waitState, count, reference, shot, FIXTURES } from "./helpers.js";

let srv, browser;
before(async () => { srv = await serve(); browser = await launch(); });
after(async () => { await browser?.close(); srv?.server.close(); });

// Bounds: each failure is noticed within 10 s (the watchdog case: 0.3 s of silence, then
// 1.5 s unanswered), and the follow-up file is ready within 30 s.
const NOTICE_MS = 10000;

async function fresh() {
  const page = await newPage(browser);
  await page.goto(srv.url);
  assert.equal(await waitState(page, ["ready", "error"]), "ready", "demo loads");
  return page;
}

/** The watchdog shortened to 0.3 s of silence, then 1.5 s unanswered (read at each of its
 * checks, health.rs), or with `on` false back to the page's default (10 s, then 60 s). Short
 * only while a stuck worker is the point: a healthy worker parsing a file on a loaded machine
 * can be silent for 1.8 s, and would be stopped as stuck. */
async function shortWatchdog(page, on = true) {
  await page.evaluate((on) => {
    if (on) window.__rs_watchdog = { silence_ms: 300, stall_ms: 1500 };
    else delete window.__rs_watchdog;
  }, on);
}

async function openFixture(page, name) {
  await page.evaluate(() => { document.body.dataset.state = "pending"; });
  await page.locator("[data-testid=file-input]").setInputFiles(path.join(FIXTURES, name));
  return waitState(page, ["ready", "error"]);
}

async function errorText(page) {
  await page.waitForFunction(() => document.body.dataset.state === "error", null, { timeout: NOTICE_MS });
  return page.locator("[data-testid=load-error]").innerText();
}

async function nextFileOpens(page) {
  assert.equal(await openFixture(page, "agent_2.pt"), "ready");
  await page.waitForFunction(() => document.querySelector(".file-name").innerText === "agent_2.pt");
  assert.equal(await count(page, "row-count"), reference("agent_2.pt").sample_count);
  assert.equal(await page.locator("[data-testid=load-error]").count(), 0, "the error is cleared");
}

for (const kind of ["panic", "abort", "throw"]) {
  test(`a worker that dies (${kind}) is replaced and the next file opens`, async () => {
    const page = await fresh();
    const before = await count(page, "row-count");
    await page.evaluate((k) => window.__rs_worker_test(k), kind);
    const text = await errorText(page);
    assert.match(text, /the parsing worker stopped \(.+\); a new one is ready — try again or use the rollscope CLI/);
    // No file was being opened: the heading says so.
    assert.match(text, /^Parsing:\s+the parsing worker stopped/);
    if (kind === "panic") {
      assert.match(text, /asked to panic/);
      await page.screenshot({ path: shot("worker-died.png") });
    }
    assert.equal(await count(page, "row-count"), before, "the view shown before stays");
    await nextFileOpens(page);
  });
}

test("a stuck worker is noticed by the watchdog, replaced, and the next file opens", async () => {
  const page = await fresh();
  await shortWatchdog(page);
  await page.evaluate(() => window.__rs_worker_test("hang"));
  // The hung worker gets this file; only the watchdog can end the wait.
  const t0 = Date.now();
  assert.equal(await openFixture(page, "basic_0.pt"), "error");
  assert.ok(Date.now() - t0 < NOTICE_MS, `noticed in ${Date.now() - t0} ms`);
  assert.match(await page.locator("[data-testid=load-error]").innerText(),
    /^Could not open:\s+basic_0\.pt: the parsing worker stopped \(no answer for \d+ s\); a new one is ready/);
  // The replacement parses the next file under the default watchdog: a replacement that were
  // stuck too would not be noticed for 70 s, past the 30 s wait for "ready".
  await shortWatchdog(page, false);
  await nextFileOpens(page);
});

test("a batch of rows the page cannot decode is an error, never rows silently dropped", async () => {
  const page = await fresh();
  await page.evaluate(() => window.__rs_worker_test("bad-rows"));
  assert.match(await errorText(page), /a batch of rows from the parsing worker could not be read .*nothing is shown rather than a timeline with rows missing/);
  await nextFileOpens(page);
});

test("a load stopped for undecodable rows does not finish with the rows it had", async () => {
  // The bad batch arrives while a file is loading: its later batches and `Done` must not
  // turn the page "ready" with rows missing.
  const page = await fresh();
  await page.goto(`${srv.url}?url=slow/agent_2.pt`);
  await page.waitForFunction(() => document.body.dataset.state === "loading");
  await page.evaluate(() => window.__rs_worker_test("bad-rows"));
  assert.match(await errorText(page), /agent_2\.pt: a batch of rows/);
  await page.waitForTimeout(4000); // the slow download would have finished by now
  assert.equal(await page.evaluate(() => document.body.dataset.state), "error");
  await nextFileOpens(page);
});

test("the loader starts before its file: at page start, and after a file is on screen", async () => {
  const page = await newPage(browser);
  // Every worker the page makes, with the time it was made.
  await page.addInitScript(() => {
    const W = window.Worker;
    window.__rs_workers = [];
    window.Worker = function (...a) {
      window.__rs_workers.push(performance.now());
      return new W(...a);
    };
    window.Worker.prototype = W.prototype;
  });
  await page.goto(`${srv.url}?embed=1`);
  await page.waitForFunction(() => document.body.dataset.state === "idle");
  const made = () => page.evaluate(() => window.__rs_workers.length);
  await page.waitForFunction(() => window.__rs_workers.length === 1, null, { timeout: NOTICE_MS });
  assert.equal(await openFixture(page, "agent_2.pt"), "ready");
  assert.equal(await made(), 1, "the file went to the loader started with the page");
  // That loader now holds the file; the next file's loader starts a moment later.
  await page.waitForFunction(() => window.__rs_workers.length === 2, null, { timeout: NOTICE_MS });
  assert.equal(await openFixture(page, "basic_0.pt"), "ready");
  assert.equal(await made(), 2, "the second file went to the loader started after the first");
  assert.equal(await count(page, "row-count"), reference("basic_0.pt").sample_count);
});

test("a loader that cannot start is not started again and again; a file opened says why", async () => {
  const page = await newPage(browser);
  // Every worker goes to a script that is not there (as when it is blocked or missing).
  await page.addInitScript(() => {
    const W = window.Worker;
    window.__rs_workers = 0;
    window.__rollscope_worker_url = "./no_such_worker_loader.js";
    window.Worker = function (...a) {
      window.__rs_workers++;
      return new W(...a);
    };
    window.Worker.prototype = W.prototype;
  });
  await page.goto(`${srv.url}?embed=1`);
  await page.waitForFunction(() => document.body.dataset.state === "idle");
  await page.waitForFunction(() => window.__rs_workers >= 1, null, { timeout: NOTICE_MS });
  // The loader started ahead of a file dies; nothing was asked of it, so nothing is said and
  // no other is started.
  await page.waitForTimeout(1500);
  const made = () => page.evaluate(() => window.__rs_workers);
  assert.equal(await made(), 1, "one loader started, not a loop of them");
  assert.equal(await page.evaluate(() => document.body.dataset.state), "idle");
  assert.equal(await page.locator("[data-testid=load-error]").count(), 0);
  // A file is opened: its loader dies too, and that is said, naming the file.
  await page.locator("[data-testid=file-input]").setInputFiles(path.join(FIXTURES, "basic_0.pt"));
  assert.match(await errorText(page),
    /basic_0\.pt: the parsing worker stopped \(its script could not be loaded\); a new one could not be started — reload the page/);
  await page.waitForTimeout(1500);
  // That one, and no replacement (it would die too).
  assert.equal(await made(), 2);
  await page.screenshot({ path: shot("worker-missing.png") });
});

test("the in-flight requests track (sent as columns, not JSON) is drawn above the rows", async () => {
  const page = await fresh();
  assert.equal(await openFixture(page, "agent_2.pt"), "ready");
  await page.waitForFunction(() => document.querySelector(".file-name").innerText === "agent_2.pt");
  await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(() => ok()))));
  // Pixels of the track's colour (#0969da, state.rs) between the top and the first row.
  const blue = await page.evaluate(() => {
    const c = document.querySelector("canvas[data-testid=timeline]");
    const top = Math.floor(Number(c.dataset.rowsTop) * devicePixelRatio);
    const d = c.getContext("2d").getImageData(0, 0, c.width, top).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (Math.abs(d[i] - 9) < 12 && Math.abs(d[i + 1] - 105) < 12 && Math.abs(d[i + 2] - 218) < 12) n++;
    }
    return n;
  });
  assert.ok(blue > 20, `${blue} pixels of the in-flight track`);
});

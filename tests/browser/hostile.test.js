// The hostile catalog (crates/picklegen/src/hostile) in the browser: every case the catalog
// marks `browser: true` is opened through the file input and must give what the CLI gives
// (the expected error text, or the expected row count and warning), within a time bound,
// and leave the page working (a fixture opened next shows its rows).
//
// The files come from `cargo run -p picklegen --example hostile -- target/hostile`, run here
// unless target/hostile/index.json is newer than the catalog's sources. ROLLSCOPE_HOSTILE_DIR
// points the test at another folder of the same layout instead (no generation).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { serve, launch, newPage, waitState, count, reference, shot, ROOT, FIXTURES } from "./helpers.js";

// Bounds. Each case: settled (ready or error) within CASE_MS, a generous bound for files
// of at most a few MB that should take well under a second; it catches hangs and blowups.
const CASE_MS = 20000;
// The catalog must cover at least this many of issue #12's classes (1–10).
const MIN_CLASSES = 8;
const FOLLOW_UP = "edge_9.pt";

function catalogDir() {
  if (process.env.ROLLSCOPE_HOSTILE_DIR) return path.resolve(process.env.ROLLSCOPE_HOSTILE_DIR);
  const dir = path.join(ROOT, "target", "hostile");
  const index = path.join(dir, "index.json");
  const src = path.join(ROOT, "crates", "picklegen", "src");
  const newest = (d) => fs.readdirSync(d, { withFileTypes: true }).reduce((m, e) => {
    const p = path.join(d, e.name);
    return Math.max(m, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }, 0);
  if (!fs.existsSync(index) || fs.statSync(index).mtimeMs < newest(src)) {
    execFileSync("cargo", ["run", "-q", "-p", "picklegen", "--example", "hostile", "--", dir],
      { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"], timeout: 15 * 60 * 1000 });
  }
  return dir;
}

let srv, browser, dir, cases;
before(async () => {
  dir = catalogDir();
  cases = JSON.parse(fs.readFileSync(path.join(dir, "index.json"), "utf8"));
  srv = await serve();
  browser = await launch();
});
after(async () => { await browser?.close(); srv?.server.close(); });

async function open(page, file) {
  // A marker no phase has, so the wait below sees this load settle, not the previous one.
  await page.evaluate(() => { document.body.dataset.state = "pending"; });
  await page.locator("[data-testid=file-input]").setInputFiles(file);
  return waitState(page, ["ready", "error"], CASE_MS);
}

test(`the hostile catalog covers at least ${MIN_CLASSES} classes`, () => {
  const classes = [...new Set(cases.map((c) => c.class))].sort((a, b) => a - b);
  assert.ok(classes.length >= MIN_CLASSES,
    `the catalog (${dir}/index.json, ${cases.length} cases) covers classes [${classes}]: fewer than ${MIN_CLASSES}`);
});

const SHOTS = new Set(["bomb_deflate_5gib.pt", "trace_shared_attrs.pt", "cache_lane_huge.json"]);

test("every browser case gives the expected error or rows, in bounded time, and the page keeps working", async () => {
  const page = await newPage(browser);
  await page.goto(`${srv.url}?embed=1`); // no demo dump: the first case starts from idle
  const shown = cases.filter((c) => c.browser);
  assert.ok(shown.length > 0, "no case is marked browser: true");
  const followRows = reference(FOLLOW_UP).sample_count;
  const failures = [];
  for (const c of shown) {
    const label = `${c.file} (class ${c.class}: ${c.what})`;
    const t0 = Date.now();
    let state;
    try {
      state = await open(page, path.join(dir, c.file));
    } catch (e) {
      failures.push(`${label}: not settled within ${CASE_MS} ms`);
      continue;
    }
    const ms = Date.now() - t0;
    if (c.expect === "error") {
      const err = state === "error" ? await page.locator("[data-testid=load-error]").innerText() : "";
      if (state !== "error") failures.push(`${label}: expected an error containing ${JSON.stringify(c.text)}, got rows (${await count(page, "row-count")})`);
      else if (!err.includes(c.text)) failures.push(`${label}: error ${JSON.stringify(err)} lacks ${JSON.stringify(c.text)}`);
    } else {
      const rows = state === "ready" ? await count(page, "row-count") : -1;
      if (state !== "ready") failures.push(`${label}: expected ${c.rows} rows, got error ${JSON.stringify(await page.locator("[data-testid=load-error]").innerText())}`);
      else if (rows !== c.rows) failures.push(`${label}: ${rows} rows, expected ${c.rows}`);
      else if (c.text) {
        const warnings = await page.locator("[data-testid=warnings]").textContent().catch(() => "");
        if (!warnings.includes(c.text)) failures.push(`${label}: no warning containing ${JSON.stringify(c.text)}`);
        // The heading counts the warnings, in good English.
        const heading = await page.locator("[data-testid=warnings] summary").innerText().catch(() => "");
        if (!/^(1 warning|\d+ warnings) \(the rest is shown\)/.test(heading) || /^1 warnings/.test(heading)) {
          failures.push(`${label}: warnings heading ${JSON.stringify(heading)}`);
        }
      }
    }
    // What a user sees for an error, for a capped file and for a crafted cache.
    if (SHOTS.has(c.file)) await page.screenshot({ path: shot(`hostile-${c.file}.png`) });
    // Still responsive: a real fixture opens and shows its rows.
    const next = await open(page, path.join(FIXTURES, FOLLOW_UP)).catch(() => "timeout");
    const n = next === "ready" ? await count(page, "row-count") : -1;
    if (n !== followRows) failures.push(`${label}: afterwards ${FOLLOW_UP} gave ${next} with ${n} rows, expected ${followRows}`);
    console.log(`# ${c.file}: ${state} in ${ms} ms`);
  }
  assert.deepEqual(failures, []);
});

test("error messages that quote the input (here its file name) are shown as text", async () => {
  const page = await newPage(browser);
  await page.goto(`${srv.url}?embed=1`);
  const tmp = fs.mkdtempSync(path.join(ROOT, "target", "rs-evil-"));
  const evil = path.join(tmp, '<img src=x onerror="window.__pwned=1">.pt');
  fs.writeFileSync(evil, Buffer.from("<b>not a torch file</b>"));
  assert.equal(await open(page, evil), "error");
  const err = page.locator("[data-testid=load-error]");
  assert.match(await err.innerText(), /<img src=x onerror="window.__pwned=1">\.pt: /);
  assert.equal(await err.locator("img, b b").count(), 0);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  fs.rmSync(tmp, { recursive: true, force: true });
});

test("a cache claiming lane 4 294 967 294 costs the page nothing per claimed lane", async () => {
  // Bound: settled and drawn within CASE_MS. Before, drawing made one Vec per claimed lane
  // (4 294 967 295 of them) and the tab ran out of memory.
  const page = await newPage(browser);
  await page.goto(`${srv.url}?embed=1`);
  const cache = reference("basic_0.pt");
  for (const r of cache.rows.slice(0, 3)) {
    r.lane_count = 4294967295;
    for (const it of r.items) it.lane = 4294967294;
  }
  const tmp = fs.mkdtempSync(path.join(ROOT, "target", "rs-lanes-"));
  const file = path.join(tmp, "lanes.trace_timeline_cache.json");
  fs.writeFileSync(file, JSON.stringify(cache));
  const t0 = Date.now();
  const state = await open(page, file);
  if (state === "ready") {
    // Accepted (the lanes are display-only): every row shown and a frame drawn.
    assert.equal(await count(page, "row-count"), cache.rows.length);
    await page.waitForFunction(() => window.__rs_first_paint, null, { timeout: CASE_MS });
  } else {
    // Refused by validation: an error that names the lane.
    assert.match(await page.locator("[data-testid=load-error]").innerText(), /lane/);
  }
  assert.ok(Date.now() - t0 < CASE_MS, `settled in ${Date.now() - t0} ms`);
  assert.deepEqual(page.errors, []);
  assert.equal(await open(page, path.join(FIXTURES, FOLLOW_UP)), "ready");
  fs.rmSync(tmp, { recursive: true, force: true });
});

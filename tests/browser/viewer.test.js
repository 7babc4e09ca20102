// The viewer on real dumps: file input, filter, selection, errors, ?url=, exports, screenshots;
// in Chromium and in Firefox.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { newPage, waitState, count, shot, docShot, fixtures, reference, download, eachBrowser, FIXTURES } from "./helpers.js";

eachBrowser((env) => {
  async function openFile(page, file) {
    await page.locator("[data-testid=file-input]").setInputFiles(file);
    return waitState(page, ["ready", "error"]);
  }

  async function fresh() {
    const page = await newPage(env.browser);
    await page.goto(env.srv.url);
    assert.equal(await waitState(page, ["ready", "error"]), "ready", "demo loads");
    return page;
  }

  test("every fixture loads through the file input with the reference row count", async () => {
    const page = await fresh();
    for (const name of fixtures()) {
      const state = await openFile(page, path.join(FIXTURES, name));
      assert.equal(state, "ready", name);
      await page.waitForFunction((n) => document.querySelector(".file-name").innerText === n, name);
      assert.equal(await count(page, "row-count"), reference(name).sample_count, name);
    }
    assert.deepEqual(page.errors, []);
  });

  test("the filter narrows rows", async () => {
    const page = await fresh();
    await openFile(page, path.join(FIXTURES, "basic_0.pt"));
    const all = await count(page, "row-count");
    const ref = reference("basic_0.pt");
    const source = ref.rows[0].source;
    const expected = ref.rows.filter((r) =>
      [r.sample_index, r.source, r.status, r.label, r.trace_id].some((v) => String(v ?? "None").toLowerCase().includes(String(source).toLowerCase()))).length;
    await page.locator("[data-testid=filter]").fill(String(source));
    await page.waitForFunction((n) => Number(document.querySelector("[data-testid=row-count]").innerText) === n, expected);
    assert.ok(expected < all, `${expected} < ${all}`);
    await page.locator("[data-testid=filter]").fill("no-such-thing-anywhere");
    await page.waitForFunction(() => document.querySelector("[data-testid=row-count]").innerText === "0");
  });

  /** Clicks the middle of the first row's first lane-0 span (the row that starts first) and
   * waits for its name in the details panel; returns that span's reference item. */
  async function selectFirstSpan(page, name) {
    const ref = reference(name);
    const box = await page.locator("canvas[data-testid=timeline]").boundingBox();
    // Same arithmetic as timeline::Viewport::fit and the default sort (start, then row order).
    const LABEL_W = 180, AXIS_H = 26, LANE_H = 16;
    const span = ref.global_end - ref.global_start, pad = span * 0.02;
    const t0 = ref.global_start - pad, t1 = ref.global_end + pad;
    const first = [...ref.rows].sort((a, b) => a.start - b.start)[0];
    const item = first.items.find((i) => i.type === "span" && i.lane === 0);
    const mid = (item.start_ts + item.display_end_ts) / 2;
    const x = LABEL_W + ((mid - t0) / (t1 - t0)) * (box.width - LABEL_W);
    const top = Number(await page.locator("canvas[data-testid=timeline]").getAttribute("data-rows-top"));
    assert.ok(top >= AXIS_H, "rows start below the axis (and any counter tracks)");
    await page.mouse.click(box.x + x, box.y + top + LANE_H / 2);
    await page.waitForFunction((n) => document.querySelector("[data-testid=details]").innerText.includes(n), item.name);
    return item;
  }

  test("clicking a span shows its name in details", async () => {
    const page = await fresh();
    await openFile(page, path.join(FIXTURES, "pd_1.pt"));
    await selectFirstSpan(page, "pd_1.pt");
    assert.match(await page.locator("[data-testid=details]").innerText(), /start attrs|end attrs|duration/);
    await page.screenshot({ path: shot("pd_1-selected.png", page) });
  });

  if (env.kind === "chromium") {
    test("the README's timeline screenshot: agent_2 with a span selected", async () => {
      const page = await fresh();
      await openFile(page, path.join(FIXTURES, "agent_2.pt"));
      await selectFirstSpan(page, "agent_2.pt");
      await page.screenshot({ path: docShot("timeline.png") });
      assert.deepEqual(page.errors, []);
    });
  }

  test("a broken file shows load-error and the previous view survives", async () => {
    const page = await fresh();
    await openFile(page, path.join(FIXTURES, "agent_2.pt"));
    const before = await count(page, "row-count");
    const bad = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "rs-")), "broken.pt");
    fs.writeFileSync(bad, Buffer.from("this is not a torch file"));
    assert.equal(await openFile(page, bad), "error");
    const err = page.locator("[data-testid=load-error]");
    await err.waitFor({ state: "visible" });
    assert.match(await err.innerText(), /broken\.pt: not a torch file or pickle: starts with bytes 74 68 69 73/);
    assert.equal(await count(page, "row-count"), before);
  });

  test("?url= opens a dump by URL", async () => {
    const page = await newPage(env.browser);
    await page.goto(`${env.srv.url}?url=fixtures/pd_1.pt`);
    assert.equal(await waitState(page, ["ready", "error"]), "ready");
    assert.equal(await count(page, "row-count"), reference("pd_1.pt").sample_count);
    await page.goto(`${env.srv.url}?url=fixtures/missing.pt`);
    assert.equal(await waitState(page, ["error"]), "error");
    assert.match(await page.locator("[data-testid=load-error]").innerText(), /HTTP 404/);
  });

  test("screenshots of the PD and agent dumps", async () => {
    for (const name of ["pd_1.pt", "agent_2.pt"]) {
      const page = await newPage(env.browser);
      await page.goto(`${env.srv.url}?url=fixtures/${name}`);
      assert.equal(await waitState(page, ["ready"]), "ready");
      await page.screenshot({ path: shot(`${name.replace(".pt", "")}.png`, page) });
      assert.deepEqual(page.errors, []);
    }
  });

  test("text from a dump is shown as text, never run as HTML", async () => {
    const page = await fresh();
    const evil = '<img src=x onerror="window.__pwned=1">';
    const cache = reference("basic_0.pt");
    cache.rows = cache.rows.slice(0, 1);
    cache.sample_count = 1;
    cache.global_start = cache.rows[0].start;
    cache.global_end = cache.rows[0].end;
    const item = cache.rows[0].items.find((i) => i.type === "span");
    item.name = evil;
    item.attrs.end_attrs = { note: "<script>window.__pwned=2</script>" };
    cache.rows[0].label = evil;
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "rs-")), "evil.trace_timeline_cache.json");
    fs.writeFileSync(file, JSON.stringify(cache));
    assert.equal(await openFile(page, file), "ready");
    assert.equal(await count(page, "row-count"), 1);
    // Select the item through the keyboard-free path: click its bar.
    const box = await page.locator("canvas[data-testid=timeline]").boundingBox();
    const r = cache.rows[0];
    const pad = (r.end - r.start) * 0.02, t0 = r.start - pad, t1 = r.end + pad;
    const mid = (item.start_ts + item.display_end_ts) / 2;
    const x = 180 + ((mid - t0) / (t1 - t0)) * (box.width - 180);
    const top = Number(await page.locator("canvas[data-testid=timeline]").getAttribute("data-rows-top"));
    await page.mouse.click(box.x + x, box.y + top + 16 * item.lane + 8);
    await page.waitForFunction((n) => document.querySelector("[data-testid=details]").innerText.includes(n), evil);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.equal(await page.locator("[data-testid=details] img").count(), 0);
  });

  test("the link keeps the view: file, filter, time range and selection", async () => {
    const page = await newPage(env.browser);
    await page.goto(`${env.srv.url}?url=fixtures/pd_1.pt`);
    assert.equal(await waitState(page, ["ready"]), "ready");
    await page.locator("[data-testid=filter]").fill("math");
    const rows = await count(page, "row-count");
    // Select a span with the keyboard: first shown row, first item.
    await page.locator("canvas[data-testid=timeline]").click({ position: { x: 5, y: 5 } });
    await page.keyboard.press("ArrowDown");
    await page.waitForFunction(() => !document.querySelector("[data-testid=details]").innerText.includes("Click a span"));
    const name = await page.locator(".detail-name").innerText();
    await page.keyboard.press("w"); // zoom in, so the range differs from "fit all"
    await page.waitForFunction(() => /sel=\d+%3A\d+/.test(location.hash) && /t0=/.test(location.hash) && /q=math/.test(location.hash));
    const link = await page.evaluate(() => location.href);
    const again = await newPage(env.browser);
    await again.goto(link);
    assert.equal(await waitState(again, ["ready"]), "ready");
    assert.equal(await again.locator("[data-testid=filter]").inputValue(), "math");
    assert.equal(await count(again, "row-count"), rows);
    await again.waitForFunction((n) => document.querySelector(".detail-name")?.innerText === n, name);
    const range = (p) => p.evaluate(() => document.querySelector(".footer").innerText.split(" · ")[0]);
    assert.equal(await range(again), await range(page));
    assert.deepEqual(again.errors, []);
  });

  test("a slow download shows byte progress and can be cancelled", async () => {
    const page = await newPage(env.browser);
    await page.goto(`${env.srv.url}?url=slow/agent_2.pt`);
    const bar = page.locator("[data-testid=progress]");
    await bar.waitFor({ state: "visible" });
    await page.waitForFunction(() => /reading [\d.]+ of 0\.2 MB/.test(document.querySelector("[data-testid=progress]")?.innerText ?? ""));
    assert.equal(await page.evaluate(() => document.body.dataset.state), "loading");
    await bar.getByRole("button", { name: "Cancel" }).click();
    assert.equal(await waitState(page, ["idle"]), "idle");
    assert.equal(await bar.count(), 0);
    // The next load after a cancel works.
    await page.locator("[data-testid=file-input]").setInputFiles(path.join(FIXTURES, "pd_1.pt"));
    assert.equal(await waitState(page, ["ready"]), "ready");
    assert.equal(await count(page, "row-count"), reference("pd_1.pt").sample_count);
  });

  test("the Metrics panel shows the e2e p99, and a slow sample click selects it", async () => {
    const page = await newPage(env.browser);
    await page.goto(`${env.srv.url}?url=fixtures/pd_1.pt`);
    assert.equal(await waitState(page, ["ready"]), "ready");
    await page.locator("[data-testid=metrics-tab]").click();
    const panel = page.locator("[data-testid=metrics]");
    await panel.waitFor({ state: "visible" });
    // numpy's linear p99 over every sglang_generate end's e2e_latency, from slime's cache.
    const values = reference("pd_1.pt").rows.flatMap((r) => r.items)
      .filter((i) => i.name === "sglang_generate" && (i.state === "closed_span" || i.state === "orphan_end"))
      .map((i) => (i.state === "closed_span" ? i.attrs.end_attrs : i.attrs).e2e_latency)
      .filter((x) => typeof x === "number").sort((a, b) => a - b);
    const idx = (values.length - 1) * 0.99, lo = Math.floor(idx), hi = Math.ceil(idx);
    const p99 = values[lo] + (values[hi] - values[lo]) * (idx - lo);
    const shown = await panel.locator("[data-testid=metric-e2e] td.p99").innerText();
    assert.equal(shown, p99.toFixed(3));
    assert.match(await panel.innerText(), /E2E latency p99/);
    await page.screenshot({ path: shot("pd_1-metrics.png", page) });
    // Each metric name stays on one line: its text is no taller than ~1.5 line heights.
    const names = await page.evaluate(() => [...document.querySelectorAll("[data-testid=metrics] table.dist th:first-child")].map((th) => {
      const cs = getComputedStyle(th);
      const line = cs.lineHeight === "normal" ? parseFloat(cs.fontSize) * 1.2 : parseFloat(cs.lineHeight);
      const range = document.createRange();
      range.selectNodeContents(th);
      return { name: th.innerText, height: range.getBoundingClientRect().height, line };
    }));
    assert.ok(names.length > 1, "the percentile table has metric rows");
    for (const n of names) assert.ok(n.height <= 1.5 * n.line, `${n.name} wraps: ${n.height}px tall, line ${n.line}px`);
    await panel.locator("ul.plain button").first().click();
    await page.waitForFunction(() => !document.querySelector("[data-testid=details]").innerText.includes("Click a span"));
    assert.deepEqual(page.errors, []);
  });

  test("the export buttons download what the worker wrote: OTLP, Chrome trace and slime's cache", async () => {
    const page = await newPage(env.browser);
    await page.goto(`${env.srv.url}?url=fixtures/agent_2.pt`);
    assert.equal(await waitState(page, ["ready"]), "ready");
    const ref = reference("agent_2.pt");
    const saved = {};
    for (const kind of ["otlp", "chrome", "cache"]) {
      saved[kind] = await download(page, () => page.locator(`[data-testid=export-${kind}]`).click());
    }
    assert.equal(saved.cache.name, "agent_2.trace_timeline_cache.json");
    const cache = JSON.parse(fs.readFileSync(saved.cache.file, "utf8"));
    assert.deepEqual(cache.rows.map((r) => r.items.length), ref.rows.map((r) => r.items.length));
    const otlp = JSON.parse(fs.readFileSync(saved.otlp.file, "utf8"));
    assert.equal(otlp.resourceSpans.length, ref.sample_count);
    const chrome = JSON.parse(fs.readFileSync(saved.chrome.file, "utf8"));
    assert.ok(chrome.traceEvents.some((e) => e.ph === "X" && e.name === "sglang_generate"));
    assert.deepEqual(page.errors, []);
  });
});

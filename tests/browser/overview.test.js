// Overview first at scale: a 512-sample dump opens with every sample on screen as a strip,
// beside a minimap of the whole rollout; a click on the minimap moves the view; zooming in
// grows the strips into rows and zooming out shrinks them back. Details of a selected item come from the worker.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { newPage, waitState, count, shot, eachBrowser, ROOT } from "./helpers.js";

// Bounds: the ≈3 MB dump is ready within LOAD_MS (it takes well under a second here; the
// bound catches hangs and quadratic blowups).
const LOAD_MS = 30000;
const SAMPLES = 64 * 8;

const file = path.join(ROOT, "target", "browser-large", "large_512.pt");
if (!fs.existsSync(file)) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  execFileSync("python3", [path.resolve(ROOT, "tools/synth_large.py"), file,
    "--groups", "64", "--group-size", "8", "--turns", "4", "--tokens", "64:256"], { stdio: "inherit" });
}

// The same shape with other names (every name prefixed): its name ids are the first file's.
const other = path.join(ROOT, "target", "browser-large", "large_512_b.pt");
if (!fs.existsSync(other)) {
  execFileSync("python3", [path.resolve(ROOT, "tools/synth_large.py"), other,
    "--groups", "64", "--group-size", "8", "--turns", "4", "--tokens", "64:256", "--prefix", "b."], { stdio: "inherit" });
}

/** Opens `dump` on `page` and returns the timeline canvas's pixels (as a data URL) once its
 * rows are painted. */
async function openedPicture(page, dump) {
  await page.evaluate(() => { window.__rs_first_paint = 0; });
  await page.locator("[data-testid=file-input]").setInputFiles(dump);
  await page.waitForFunction(() => window.__rs_first_paint && document.body.dataset.state === "ready", null, { timeout: LOAD_MS });
  await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok))));
  return page.evaluate(() => document.querySelector("canvas[data-testid=timeline]").toDataURL());
}

const footer = (page) => page.evaluate(() => document.querySelector(".footer").innerText.split(" · ")[0]);
// The view's start time as the link keeps it (written 250 ms after a change).
const t0 = (page) => page.evaluate(() => Number(new URLSearchParams(location.hash.slice(1)).get("t0")));

/** Waits until the URL hash is the same in two reads at least 300 ms apart (the page writes it
 * 250 ms after the view's last change, later on a loaded machine), at most 30 s. */
async function settledHash(page) {
  const hash = () => page.evaluate(() => location.hash);
  const end = Date.now() + 30000;
  let last = await hash();
  while (Date.now() < end) {
    await page.waitForTimeout(300);
    const now = await hash();
    if (now === last) return now;
    last = now;
  }
  throw new Error(`the URL hash still changing after 30 s: ${last}`);
}

eachBrowser((env) => {
  test("a 512-sample dump opens on the overview with every sample on screen, and the minimap moves the view", async () => {
    const page = await newPage(env.browser);
    await page.goto(`${env.srv.url}?embed=1`);
    await page.locator("[data-testid=file-input]").setInputFiles(file);
    assert.equal(await waitState(page, ["ready", "error"], LOAD_MS), "ready");
    assert.equal(await count(page, "row-count"), SAMPLES);
    const ov = page.locator("[data-testid=overview]");
    await ov.waitFor({ state: "visible" });
    assert.equal(Number(await ov.getAttribute("data-rows")), SAMPLES);
    assert.equal(Number(await ov.getAttribute("data-visible")), SAMPLES, "every sample's strip is inside the band");
    const map = page.locator("[data-testid=minimap]");
    const box = await map.boundingBox();
    assert.ok(box && box.width > 20 && box.height > 200, `minimap box ${JSON.stringify(box)}`);
    await page.waitForFunction(() => window.__rs_first_paint);
    await page.screenshot({ path: shot("overview-512.png", page) });
    // The strips are painted: most of the band's left half is span colour, not background or
    // grid (both grey). (A picture that failed to reach the canvas left the band empty.)
    const coloured = await page.evaluate(() => {
      const c = document.querySelector("canvas[data-testid=timeline]");
      const x0 = Math.round(c.width * 0.2), y0 = Math.round(c.height * 0.25);
      const { data } = c.getContext("2d").getImageData(x0, y0, Math.round(c.width * 0.3), Math.round(c.height * 0.4));
      let n = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (Math.max(data[i], data[i + 1], data[i + 2]) - Math.min(data[i], data[i + 1], data[i + 2]) > 40) n++;
      }
      return n / (data.length / 4);
    });
    assert.ok(coloured > 0.3, `share of the overview band painted in span colours: ${coloured}`);

    // Zoom in (keyboard), then click the minimap's left edge: the visible range moves there.
    await page.locator("canvas[data-testid=timeline]").click({ position: { x: 5, y: 5 } });
    for (let i = 0; i < 4; i++) await page.keyboard.press("w");
    await page.waitForFunction(() => /t0=/.test(location.hash));
    await settledHash(page);
    const before = await t0(page);
    const shownBefore = await footer(page);
    await page.mouse.click(box.x + 3, box.y + box.height / 2);
    await page.waitForFunction((b) => document.querySelector(".footer").innerText.split(" · ")[0] !== b, shownBefore);
    await page.waitForFunction((b) => Number(new URLSearchParams(location.hash.slice(1)).get("t0")) !== b, before);
    const after = await t0(page);
    assert.ok(after < before, `a click near the map's left edge moves the view earlier: t0 ${before} → ${after}`);
    await page.screenshot({ path: shot("overview-512-minimap-click.png", page) });
    assert.deepEqual(page.errors, []);
  });

  test("a dump opened after another is painted in its own names' colours", async () => {
    // The strips' colours are kept per name id, and ids belong to one file: the second
    // dump's picture must be what it is when that dump is opened first.
    const page = await newPage(env.browser);
    await page.goto(`${env.srv.url}?embed=1`);
    await openedPicture(page, file);
    const after = await openedPicture(page, other);
    const fresh = await newPage(env.browser);
    await fresh.goto(`${env.srv.url}?embed=1`);
    const first = await openedPicture(fresh, other);
    assert.ok(first.length > 1000, "a picture was taken");
    assert.ok(after === first, "the second dump's overview differs from the same dump opened first");
    await page.close();
    await fresh.close();
  });

  test("zooming in on the overview grows strips into rows, and a selected span's details arrive from the worker", async () => {
    const page = await newPage(env.browser);
    await page.goto(`${env.srv.url}?embed=1`);
    await page.locator("[data-testid=file-input]").setInputFiles(file);
    assert.equal(await waitState(page, ["ready", "error"], LOAD_MS), "ready");
    await page.locator("[data-testid=overview]").waitFor({ state: "visible" });
    const canvas = page.locator("canvas[data-testid=timeline]");
    await canvas.click({ position: { x: 5, y: 5 } });
    // Each W zooms 1.25×: strips of ≈1.7 px reach a 16 px lane within ten presses.
    const badge = page.locator("[data-testid=overview]");
    let presses = 0;
    for (; presses < 12 && (await badge.count()) > 0; presses++) await page.keyboard.press("w");
    assert.equal(await badge.count(), 0, "the overview ended");
    // Deeper in, one step out is still rows; zooming out as far as the overview ended
    // brings it back, with every sample on screen again.
    for (let i = 0; i < 3; i++) await page.keyboard.press("w");
    await page.keyboard.press("s");
    assert.equal(await badge.count(), 0, "one step out of a deeper zoom keeps the rows");
    for (let i = 0; i < 3; i++) await page.keyboard.press("s");
    await badge.waitFor({ state: "visible" });
    for (let i = 0; i < presses; i++) await page.keyboard.press("s");
    await page.waitForFunction(() => {
      const b = document.querySelector("[data-testid=overview]");
      return b && b.dataset.rows === b.dataset.visible;
    });
    assert.equal(await badge.getAttribute("data-rows"), "512");
    // Rows asked for with the toolbar after zooming out of the overview stay rows.
    for (let i = 0; i < presses; i++) await page.keyboard.press("w");
    assert.equal(await badge.count(), 0, "the overview ended again");
    await page.locator("[data-testid=overview-toggle]").click();
    await badge.waitFor({ state: "visible" });
    await page.locator("[data-testid=overview-toggle]").click();
    assert.equal(await badge.count(), 0, "the toolbar ended the overview");
    for (let i = 0; i < 3; i++) await page.keyboard.press("s");
    assert.equal(await badge.count(), 0, "zooming out after the toolbar's Rows keeps the rows");
    // Back to the whole range, rows expanded, and the first row's first item selected by keyboard.
    await page.getByRole("button", { name: "Fit all" }).click();
    await page.getByRole("button", { name: "Expand" }).click();
    await page.keyboard.press("ArrowDown");
    await page.waitForFunction(() => document.querySelector(".detail-name")?.innerText.length > 0);
    const details = await page.locator("[data-testid=details]").innerText();
    assert.match(details, /generate_and_rm_group|buffer_enqueue/);
    assert.match(details, /trace id/);
    await page.screenshot({ path: shot("overview-512-rows.png", page) });
    assert.deepEqual(page.errors, []);
  });
});

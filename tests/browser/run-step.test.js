// The run explorer's step view, sample inspector and token view on the shared run
// (tests/fixtures/run): sort, text filter, `<script>` as text, the token count, the
// 20 000-character line whole and wrapped, the token tooltip, the group view, ↑/↓.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { serve, launch, newPage, shot, ROOT } from "./helpers.js";

const RUN = path.resolve(ROOT, "tests/fixtures/run");
const REF = JSON.parse(fs.readFileSync(path.join(RUN, "run_reference.json"), "utf8"));
const samples = (id) => REF.samples.filter((s) => s.rollout_id === id && s.kind === "train");
const sample = (id, pos) => samples(id).find((s) => s.position === pos);

let srv, browser;
before(async () => { srv = await serve(); browser = await launch(); });
after(async () => { await browser?.close(); srv?.server.close(); });

const rowSel = "[data-testid=sample-row]";

/** A page with the run folder opened through the folder input. */
async function openRun() {
  const page = await newPage(browser);
  page.dialogs = [];
  page.on("dialog", (d) => { page.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  await page.goto(srv.url);
  await page.locator("[data-testid=run-input]").waitFor({ state: "attached", timeout: 30000 });
  await page.setInputFiles("[data-testid=run-input]", RUN);
  await page.locator("[data-testid=run-step][data-rollout-id=\"2\"][data-kind=train]").waitFor({ timeout: 30000 });
  return page;
}

/** Opens a rollout's step view and waits for its rows (recognised by position 0's index). */
async function openStep(page, id) {
  await page.locator(`[data-testid=run-step][data-rollout-id="${id}"][data-kind=train]`).first().click();
  const first = sample(id, 0);
  await page.waitForFunction(([sel, n, index]) => {
    const rows = document.querySelectorAll(sel);
    const r0 = document.querySelector(`${sel}[data-position="0"]`);
    return rows.length === n && r0 && r0.children[1]?.textContent.trim() === String(index);
  }, [rowSel, samples(id).length, first.index], { timeout: 30000 });
}

const positions = (page) => page.$$eval(rowSel, (rs) => rs.map((r) => Number(r.dataset.position)));

/** Selects a sample by clicking its row and waits for the inspector to show it. */
async function inspect(page, pos) {
  await page.locator(`${rowSel}[data-position="${pos}"]`).click();
  await page.waitForFunction((p) => document.querySelector("[data-testid=sample-inspector]")?.dataset.position === String(p)
    && document.querySelector("[data-testid=sample-response]"), pos, { timeout: 30000 });
}

test("step view: 24 rows, sort by reward both ways, filter by text, <script> stays text, token count", async () => {
  const page = await openRun();
  await openStep(page, 2);
  const ref = samples(2);
  assert.equal((await positions(page)).length, 24);
  assert.match(await page.locator("[data-testid=step-count]").innerText(), /showing 24 of 24/);
  // Dict rewards are expanded into their keys' columns.
  for (const k of ["score", "acc", "pred"]) {
    assert.equal(await page.locator(`th[data-col="reward.${k}"]`).count(), 1, k);
  }

  // Sort: ties keep the dump's order in both directions.
  const byReward = (desc) => [...ref].sort((a, b) => (desc ? b.reward - a.reward : a.reward - b.reward) || a.position - b.position).map((s) => s.position);
  const th = page.locator("[data-testid=step-view] th[data-col=reward]");
  await th.click();
  assert.equal(await th.getAttribute("aria-sort"), "ascending");
  assert.deepEqual(await positions(page), byReward(false));
  await th.click();
  assert.equal(await th.getAttribute("aria-sort"), "descending");
  assert.deepEqual(await positions(page), byReward(true));
  await page.screenshot({ path: shot("run-step-table.png") });

  // Text search in the responses (case-insensitive).
  await page.locator("[data-testid=step-search]").fill("<SCRIPT>alert(1)");
  await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 1, rowSel);
  assert.deepEqual(await positions(page), [19]);
  assert.match(await page.locator("[data-testid=step-search-count]").innerText(), /^1 of 24 responses/);

  const scriptsBefore = await page.evaluate(() => document.querySelectorAll("script").length);
  await inspect(page, 19);
  assert.equal(await page.locator(`${rowSel}[data-position="19"]`).getAttribute("aria-selected"), "true");
  const text = await page.locator("[data-testid=sample-response]").textContent();
  assert.ok(text.includes("<script>alert(1)</script>"), "the literal characters are shown");
  assert.equal([...text].length, sample(2, 19).response_chars, "the whole response");
  assert.equal(await page.evaluate(() => document.querySelectorAll("script").length), scriptsBefore);
  assert.equal(await page.locator("[data-testid=sample-inspector] script").count(), 0);
  assert.deepEqual(page.dialogs, []);

  // The token view shows every response token.
  const tokens = page.locator("[data-testid=sample-tokens]");
  await tokens.waitFor();
  assert.equal(Number(await tokens.getAttribute("data-token-count")), sample(2, 19).response_length);
  assert.equal(await tokens.locator("[data-i]").count(), sample(2, 19).response_length);
  await page.screenshot({ path: shot("run-step-inspector.png") });
  assert.deepEqual(page.errors, []);
});

test("inspector: the 20 000-character line is whole and wrapped; hovering a token shows its tooltip", async () => {
  const page = await openRun();
  await openStep(page, 4);
  await inspect(page, 21);
  const resp = page.locator("[data-testid=sample-response]");
  const text = await resp.textContent();
  assert.ok(text.includes("=".repeat(20000)), "the = line is whole");
  assert.equal([...text].length, sample(4, 21).response_chars);
  const fit = await resp.evaluate((el) => {
    const cs = getComputedStyle(el);
    return { sw: el.scrollWidth, cw: el.clientWidth, ws: cs.whiteSpace, wrap: cs.overflowWrap, box: el.getBoundingClientRect().width };
  });
  assert.ok(fit.sw <= fit.cw + 1, `wrapped, not overflowing: scrollWidth ${fit.sw} clientWidth ${fit.cw}`);
  assert.equal(fit.ws, "pre-wrap");
  assert.equal(fit.wrap, "anywhere");
  assert.ok(fit.box <= 1600, "the box fits the window");
  await resp.scrollIntoViewIfNeeded();
  await page.screenshot({ path: shot("run-step-long-line.png") });

  const tokens = page.locator("[data-testid=sample-tokens]");
  assert.equal(Number(await tokens.getAttribute("data-token-count")), sample(4, 21).response_length);
  // Every offered value recolours the tokens; the legend follows the choice.
  const select = tokens.locator("[data-testid=token-value]");
  if (await select.count()) {
    const values = await select.locator("option").evaluateAll((os) => os.map((o) => o.value));
    assert.ok(values.includes("rollout_log_prob"), values.join(","));
    for (const v of values) {
      await select.selectOption(v);
      await page.waitForFunction((v) => document.querySelector("[data-testid=token-legend]")?.dataset.value === v, v);
    }
    await select.selectOption(values[0]);
  }
  const tok = tokens.locator("[data-i=\"5\"]");
  await tok.scrollIntoViewIfNeeded();
  await tok.hover();
  const tip = page.locator("[data-testid=token-tip]");
  await tip.waitFor({ timeout: 20000 });
  const tipText = await tip.innerText();
  assert.match(tipText, /token 5/);
  assert.match(tipText, /rollout log prob: -?\d/);
  await page.screenshot({ path: shot("run-step-tokens.png") });
  await page.mouse.move(1, 1);
  await page.waitForFunction(() => !document.querySelector("[data-testid=token-tip]"));
  assert.deepEqual(page.errors, []);
});

test("group view marks slime's zero-std groups; ↑/↓ move the selection", async () => {
  const page = await openRun();
  await openStep(page, 4);
  await page.locator("[data-testid=group-view]").check();
  await page.waitForFunction(() => document.querySelectorAll("[data-testid=step-group]").length === 6);
  const meta = REF.rollouts.find((r) => r.rollout_id === 4 && r.kind === "train");
  const zero = Object.entries(meta).filter(([k]) => k.startsWith("rollout/zero_std/count_")).reduce((a, [, v]) => a + v, 0);
  assert.equal(await page.locator("[data-testid=step-group][data-zero-std=true]").count(), zero);
  assert.equal((await positions(page)).length, 24, "every sample under its group");
  await page.screenshot({ path: shot("run-step-groups.png") });
  await page.locator("[data-testid=group-view]").uncheck();
  await page.waitForFunction(() => document.querySelectorAll("[data-testid=step-group]").length === 0);

  await inspect(page, 0);
  await page.locator("[data-testid=step-view]").focus();
  await page.keyboard.press("ArrowDown");
  await page.waitForFunction(() => document.querySelector("[data-testid=sample-inspector]")?.dataset.position === "1");
  assert.equal(await page.locator(`${rowSel}[data-position="1"]`).getAttribute("aria-selected"), "true");
  await page.keyboard.press("ArrowUp");
  await page.waitForFunction(() => document.querySelector("[data-testid=sample-inspector]")?.dataset.position === "0");
  assert.deepEqual(page.errors, []);
});

// The timeline canvas always matches its box: after a load (the box changes size without a
// window resize) the bitmap is the box × devicePixelRatio, and a click at the centre of a lane
// near the bottom selects that lane's item, not a neighbour's. In Chromium and in Firefox.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { newPage, waitState, reference, shot, eachBrowser, FIXTURES } from "./helpers.js";

// As drawn (draw.rs, state.rs): the label column, the lane height, the gap between rows.
const LABEL_W = 180, LANE_H = 16, ROW_GAP = 3;

/** The canvas's CSS box, its bitmap size, the device pixel ratio and where rows begin. */
const measure = (page) => page.evaluate(() => {
  const c = document.querySelector("canvas[data-testid=timeline]");
  const r = c.getBoundingClientRect();
  return { x: r.x, y: r.y, w: r.width, h: r.height, bw: c.width, bh: c.height, dpr: devicePixelRatio, top: Number(c.dataset.rowsTop) };
});

/** The widest span on the lowest lane (centre above the bottom edge) that has one, with no
 * point event within 12 px of its centre; the geometry is `timeline::Viewport::fit` and the
 * default order (start, then row order), rows expanded. */
function lowLane(ref, box) {
  const span = ref.global_end - ref.global_start, pad = span * 0.02;
  const t0 = ref.global_start - pad, t1 = ref.global_end + pad;
  const x = (t) => LABEL_W + ((t - t0) / (t1 - t0)) * (box.w - LABEL_W);
  const lanes = [];
  let y = box.top;
  for (const row of [...ref.rows].sort((a, b) => a.start - b.start)) {
    for (let lane = 0; lane < row.lane_count; lane++) lanes.push({ row, lane, cy: y + lane * LANE_H + LANE_H / 2 });
    y += row.lane_count * LANE_H + ROW_GAP;
  }
  for (const { row, lane, cy } of lanes.filter((l) => l.cy <= box.h - LANE_H).reverse()) {
    const on = row.items.filter((i) => i.lane === lane);
    const points = on.filter((i) => i.type !== "span").map((i) => x(i.ts ?? i.start_ts));
    const spans = on.filter((i) => i.type === "span" && i.state === "closed_span")
      .map((i) => ({ item: i, cx: (x(i.start_ts) + x(i.display_end_ts)) / 2, w: x(i.display_end_ts) - x(i.start_ts) }))
      .filter((s) => s.w >= 8 && s.cx > LABEL_W + 4 && s.cx < box.w - 4 && points.every((p) => Math.abs(p - s.cx) > 12))
      .sort((a, b) => b.w - a.w);
    if (spans.length) return { ...spans[0], cy };
  }
  return null;
}

eachBrowser((env) => {
  test("after a load the canvas bitmap is its box × DPR, and a click on a lane near the bottom selects that lane's item", async () => {
    const page = await newPage(env.browser);
    await page.goto(env.srv.url);
    assert.equal(await waitState(page, ["ready", "error"]), "ready", "demo loads");
    await page.locator("[data-testid=file-input]").setInputFiles(path.join(FIXTURES, "agent_2.pt"));
    assert.equal(await waitState(page, ["ready", "error"]), "ready");
    await page.waitForFunction(() => document.querySelector(".file-name").innerText === "agent_2.pt");
    // Two frames: the resize observation, then the redraw it caused.
    await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(() => ok()))));
    const box = await measure(page);
    assert.equal(box.bh, Math.round(box.h * box.dpr), `bitmap height ${box.bh} for a ${box.h} px box at DPR ${box.dpr}`);
    assert.equal(box.bw, Math.round(box.w * box.dpr), `bitmap width ${box.bw} for a ${box.w} px box at DPR ${box.dpr}`);

    const ref = reference("agent_2.pt");
    const pick = lowLane(ref, box);
    assert.ok(pick, "a lane with a span near the bottom of the canvas");
    assert.ok(pick.cy > 0.75 * box.h, `the lane is near the bottom (centre ${pick.cy} of ${box.h} px)`);
    await page.mouse.click(box.x + pick.cx, box.y + pick.cy);
    await page.waitForFunction((id) => document.querySelector("[data-testid=details]").innerText.includes(id), pick.item.span_id);
    assert.equal(await page.locator(".detail-name").innerText(), pick.item.name);
    await page.screenshot({ path: shot("agent_2-bottom-lane.png", page) });
    assert.deepEqual(page.errors, []);
  });
});

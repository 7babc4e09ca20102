// Shared set-up for the browser tests: a static file server over dist/ on 127.0.0.1 (Node's
// own http module), Debian's Chromium driven by playwright-core and Debian's Firefox ESR driven
// by puppeteer-core over WebDriver BiDi (`firefox.js` makes its pages answer like Playwright's).
import http from "node:http";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, before, after } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { launchFirefox, firefoxPage } from "./firefox.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const DIST = path.join(ROOT, "dist");
export const FIXTURES = path.resolve(ROOT, "tests/fixtures/slime");
export const SHOTS = path.join(ROOT, "target", "screenshots");
/** The README's screenshots, remade by every browser run so they show the current viewer. */
export const DOC_IMG = path.join(ROOT, "docs", "img");

const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".wasm": "application/wasm",
  ".css": "text/css", ".json": "application/json", ".pt": "application/octet-stream",
};

/** Serves `dir` (and, under /fixtures/, the shared fixtures) on a random loopback port. */
export async function serve(dir = DIST) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    let rel = decodeURIComponent(url.pathname);
    let base = dir;
    // /slow/<fixture>: the fixture in 16 KiB pieces, 150 ms apart (to watch progress/cancel).
    if (rel.startsWith("/slow/")) {
      const file = path.join(FIXTURES, path.basename(rel));
      if (!fs.existsSync(file)) { res.writeHead(404); res.end(); return; }
      const data = fs.readFileSync(file);
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": data.length });
      let at = 0;
      const tick = () => {
        if (at >= data.length || res.destroyed) { res.end(); return; }
        res.write(data.subarray(at, at + 16384)); at += 16384;
        setTimeout(tick, 150);
      };
      tick();
      return;
    }
    if (rel.startsWith("/fixtures/")) { base = FIXTURES; rel = rel.slice("/fixtures".length); }
    if (rel.endsWith("/")) rel += "index.html";
    const file = path.join(base, path.normalize(rel));
    if (!file.startsWith(base) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404); res.end("not found"); return;
    }
    res.writeHead(200, { "content-type": TYPES[path.extname(file)] || "application/octet-stream" });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  return { server, url: `http://127.0.0.1:${server.address().port}/` };
}

/** The browsers the cross-browser tests run in (`$ROLLSCOPE_BROWSERS`, comma-separated). */
export const BROWSERS = (process.env.ROLLSCOPE_BROWSERS || "chromium,firefox").split(",").filter(Boolean);

/** Runs `body(env)` once per browser of `BROWSERS`, each in a `describe` named after it: while
 * its tests run, `env.srv` serves dist/ and `env.browser` is that browser (`env.kind`). */
export function eachBrowser(body) {
  for (const kind of BROWSERS) {
    describe(kind, () => {
      const env = { kind };
      before(async () => { env.srv = await serve(); env.browser = await launch(kind); });
      after(async () => { await env.browser?.close(); env.srv?.server.close(); });
      body(env);
    });
  }
}

/** `kind` ("chromium", the default, or "firefox") started headless. */
export async function launch(kind = "chromium") {
  if (kind === "firefox") return launchFirefox(process.env.FIREFOX || "/usr/bin/firefox-esr");
  if (kind !== "chromium") throw new Error(`unknown browser ${kind} (chromium or firefox)`);
  // playwright-core gives every launch a fresh, empty profile directory of its own.
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  return browser;
}

/** A page with console errors collected, 1600×1000 like the reference screenshots. */
export async function newPage(browser) {
  if (browser.kind === "firefox") return firefoxPage(browser);
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  page.kind = "chromium";
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") page.errors.push(m.text()); });
  return page;
}

export async function waitState(page, states, timeout = 30000) {
  await page.waitForFunction((s) => s.includes(document.body.dataset.state), states, { timeout });
  return page.evaluate(() => document.body.dataset.state);
}

export async function count(page, id) {
  return Number(await page.locator(`[data-testid=${id}]`).innerText());
}

/** Where screenshot `name` goes (`firefox-name` for a Firefox page: both browsers keep theirs). */
export function shot(name, page) {
  fs.mkdirSync(SHOTS, { recursive: true });
  return path.join(SHOTS, page?.kind === "firefox" ? `firefox-${name}` : name);
}

/** Clicks with `click()` and waits for the download it starts: `{ name, file }` (a local copy). */
export async function download(page, click, timeout = 15000) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-download-"));
  if (page.kind === "firefox") return page.download(click, dir, timeout);
  const [dl] = await Promise.all([page.waitForEvent("download", { timeout }), click()]);
  const file = path.join(dir, dl.suggestedFilename());
  await dl.saveAs(file);
  return { name: dl.suggestedFilename(), file };
}

/** A path for one of the README's screenshots (`docs/img/<name>`). */
export function docShot(name) {
  fs.mkdirSync(DOC_IMG, { recursive: true });
  return path.join(DOC_IMG, name);
}

export function fixtures() {
  return fs.readdirSync(FIXTURES).filter((f) => f.endsWith(".pt")).sort();
}

export function reference(name) {
  const stem = name.replace(/\.pt$/, "");
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, `${stem}.trace_timeline_cache.json`), "utf8"));
}

/** The shared run fixture (a slime `--dump-details` folder; its README tells the story). */
export const RUN = path.resolve(ROOT, "tests/fixtures/run");

/** The `rollscope` binary the tests run (`$ROLLSCOPE_BIN`, else the debug build). */
export const ROLLSCOPE_BIN = process.env.ROLLSCOPE_BIN || path.join(ROOT, "target/debug/rollscope");

/**
 * Starts `rollscope ARGS --port 0 --no-open` and resolves with the address it prints. Fails
 * (with the binary's stderr) if it exits first or prints nothing within `ms`, instead of
 * hanging the suite; the child is killed on failure.
 */
export async function startRollscope(args, ms = 20000) {
  const child = spawn(ROLLSCOPE_BIN, [...args, "--port", "0", "--no-open"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (c) => { err += c; });
  let timer;
  try {
    const url = await new Promise((resolve, reject) => {
      const fail = (why) => reject(new Error(`rollscope ${args.join(" ")}: ${why}; stdout: ${JSON.stringify(out)}; stderr: ${JSON.stringify(err)}`));
      timer = setTimeout(() => fail(`printed no address within ${ms} ms`), ms);
      child.on("error", (e) => fail(`could not start ${ROLLSCOPE_BIN}: ${e.message}`));
      // Let stderr drain before reporting an early exit.
      child.on("exit", (code, signal) => setTimeout(() => fail(`exited early (code ${code}, signal ${signal})`), 50));
      child.stdout.on("data", (chunk) => {
        out += chunk;
        if (!out.includes("\n")) return;
        const u = out.split(/\s+/).find((w) => w.startsWith("http://"));
        if (u) resolve(u); else fail("printed a line without an address");
      });
    });
    return { child, url };
  } catch (e) {
    child.kill();
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

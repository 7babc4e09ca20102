// Firefox for the browser tests: Debian's firefox-esr driven by puppeteer-core over WebDriver
// BiDi, behind the part of Playwright's page API the cross-browser tests use (goto, evaluate,
// waitForFunction, locator/getByRole with click, fill, setInputFiles, innerText, getAttribute,
// inputValue, boundingBox, count, waitFor; mouse, keyboard, screenshot), so one test body runs
// against either browser. Locators are CSS selectors (and roles) resolved in the page at each
// use, waiting for the element like Playwright's do. BiDi cannot give a file input a directory:
// folder tests stay Chromium-only.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import puppeteer from "puppeteer-core";

const TIMEOUT = 30000;

/** Firefox ESR at `executablePath`, headless, saving downloads into a folder of its own. */
export async function launchFirefox(executablePath) {
  if (!fs.existsSync(executablePath)) {
    throw new Error(`${executablePath} not found: \`cargo xtask setup\` installs firefox-esr (or set $FIREFOX)`);
  }
  const downloads = fs.mkdtempSync(path.join(os.tmpdir(), "rs-firefox-dl-"));
  const browser = await puppeteer.launch({
    browser: "firefox",
    executablePath,
    headless: true,
    defaultViewport: { width: 1600, height: 1000 },
    extraPrefsFirefox: {
      "browser.download.folderList": 2,
      "browser.download.dir": downloads,
      "browser.download.useDownloadDir": true,
      "browser.download.always_ask_before_handling_new_types": false,
      "browser.download.start_downloads_in_tmp_dir": false,
      "browser.download.alwaysOpenPanel": false,
    },
  });
  browser.kind = "firefox";
  browser.downloads = downloads;
  const close = browser.close.bind(browser);
  browser.close = async () => {
    await close();
    fs.rmSync(downloads, { recursive: true, force: true });
  };
  return browser;
}

/** In the page: the elements `steps` select (CSS steps, role steps, an index step). */
function resolve(steps) {
  const label = (e) => (e.getAttribute("aria-label") || e.innerText || e.value || "").trim().toLowerCase();
  const ROLES = { button: "button, [role=button], input[type=button], input[type=submit]" };
  let els = [document];
  for (const s of steps) {
    if (s.nth !== undefined) {
      els = els[s.nth] ? [els[s.nth]] : [];
      continue;
    }
    const next = [];
    for (const e of els) {
      if (s.css) next.push(...e.querySelectorAll(s.css));
      else next.push(...[...e.querySelectorAll(ROLES[s.role] || `[role=${s.role}]`)]
        .filter((x) => s.name === undefined || label(x).includes(s.name.toLowerCase())));
    }
    els = [...new Set(next)];
  }
  return els;
}

/** Playwright's notion of visible: a non-empty box and not `visibility: hidden`. */
function visible(e) {
  const r = e.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== "hidden";
}

/** Until `fn(arg)` (or the expression `fn`) is truthy in the page: its value. Polled from here
 * rather than with puppeteer's waitForFunction, whose in-page poller is built with `Function()`,
 * which the viewer's Content-Security-Policy forbids. */
async function poll(raw, fn, arg, { timeout = TIMEOUT, polling = 50 } = {}) {
  const end = Date.now() + timeout;
  const interval = typeof polling === "number" ? polling : 50;
  for (;;) {
    let v;
    try {
      v = await (typeof fn === "string" ? raw.evaluate(fn) : raw.evaluate(fn, arg));
    } catch (e) {
      // A navigation between two polls: try again in the new document.
      if (!/context|navigat|destroyed|discarded/i.test(String(e.message))) throw e;
    }
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${String(fn).slice(0, 200)}`);
    await new Promise((ok) => setTimeout(ok, interval));
  }
}

class Locator {
  constructor(page, steps) { this.page = page; this.steps = steps; }
  locator(css) { return new Locator(this.page, [...this.steps, { css }]); }
  getByRole(role, { name } = {}) { return new Locator(this.page, [...this.steps, { role, name }]); }
  first() { return new Locator(this.page, [...this.steps, { nth: 0 }]); }
  nth(i) { return new Locator(this.page, [...this.steps, { nth: i }]); }

  /** The one element selected, once it exists (a strictness error when several are). */
  async handle(timeout = TIMEOUT) {
    const steps = this.steps;
    await poll(this.page.raw, `(${resolve})(${JSON.stringify(steps)}).length > 0`, undefined, { timeout })
      .catch((e) => { throw new Error(`locator ${JSON.stringify(steps)}: no element (${e.message})`); });
    const n = await this.count();
    if (n > 1) throw new Error(`locator ${JSON.stringify(steps)} selects ${n} elements`);
    const h = await this.page.raw.evaluateHandle(`(${resolve})(${JSON.stringify(steps)})[0]`);
    return h.asElement();
  }
  async count() {
    return this.page.raw.evaluate(`(${resolve})(${JSON.stringify(this.steps)}).length`);
  }
  async waitFor({ state = "visible", timeout = TIMEOUT } = {}) {
    const steps = JSON.stringify(this.steps);
    const test = {
      visible: `(${resolve})(${steps}).some(${visible})`,
      attached: `(${resolve})(${steps}).length > 0`,
      hidden: `!(${resolve})(${steps}).some(${visible})`,
      detached: `(${resolve})(${steps}).length === 0`,
    }[state];
    await poll(this.page.raw, test, undefined, { timeout });
  }
  async innerText() { return (await this.handle()).evaluate((e) => e.innerText); }
  async inputValue() { return (await this.handle()).evaluate((e) => e.value); }
  async getAttribute(name) { return (await this.handle()).evaluate((e, n) => e.getAttribute(n), name); }
  async boundingBox() {
    return (await this.handle()).evaluate((e) => {
      const r = e.getBoundingClientRect();
      return { x: r.x, y: r.y, width: r.width, height: r.height };
    });
  }
  /** A click at `position` (from the element's top left), else at its centre. */
  async click({ position } = {}) {
    const h = await this.handle();
    await h.scrollIntoView();
    const box = await this.boundingBox();
    const at = position || { x: box.width / 2, y: box.height / 2 };
    await this.page.raw.mouse.click(box.x + at.x, box.y + at.y);
  }
  /** Sets an input's value and fires `input`, as typing would. */
  async fill(value) {
    const h = await this.handle();
    await h.evaluate((e, v) => {
      e.focus();
      e.value = v;
      e.dispatchEvent(new Event("input", { bubbles: true }));
      e.dispatchEvent(new Event("change", { bubbles: true }));
    }, value);
  }
  async setInputFiles(files) {
    const h = await this.handle();
    await h.uploadFile(...[files].flat());
  }
}

/** A 1600×1000 Firefox page with Playwright's methods and console errors in `errors`. */
export async function firefoxPage(browser) {
  const raw = await browser.newPage();
  const errors = [];
  raw.on("pageerror", (e) => errors.push(String(e)));
  raw.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  const page = {
    kind: "firefox",
    raw,
    errors,
    mouse: {
      move: (x, y, opts) => raw.mouse.move(x, y, opts),
      down: (opts) => raw.mouse.down(opts),
      up: (opts) => raw.mouse.up(opts),
      click: (x, y, opts) => raw.mouse.click(x, y, opts),
      wheel: (deltaX = 0, deltaY = 0) => raw.mouse.wheel({ deltaX, deltaY }),
    },
    keyboard: raw.keyboard,
    goto: (url) => raw.goto(url),
    evaluate: (fn, arg) => raw.evaluate(fn, arg),
    waitForFunction: (fn, arg, opts) => poll(raw, fn, arg, opts),
    waitForTimeout: (ms) => new Promise((ok) => setTimeout(ok, ms)),
    screenshot: (opts) => raw.screenshot(opts),
    close: () => raw.close(),
    locator: (css) => new Locator(page, [{ css }]),
    getByRole: (role, opts) => new Locator(page, []).getByRole(role, opts),
    /** Clicks and waits for a new finished file in the browser's download folder. Firefox may
     *  write a download under a passing name (or beside a `.part`) and rename it, so a file
     *  counts only once it is the one new name, not empty, with no `.part` beside it, its size
     *  unchanged over 100 ms, and still there (an empty name whose `.part` is still being
     *  written keeps its size for as long as the writer is held off the cores). */
    async download(click, dir, timeout) {
      const before = new Set(fs.readdirSync(browser.downloads));
      await click();
      const end = Date.now() + timeout;
      const fresh = () => fs.readdirSync(browser.downloads).filter((n) => !before.has(n));
      const sizeOf = (name) => {
        try { return fs.statSync(path.join(browser.downloads, name)).size; } catch { return null; }
      };
      const partial = (name) => fs.existsSync(path.join(browser.downloads, `${name}.part`));
      for (;;) {
        if (Date.now() > end) throw new Error(`no download within ${timeout} ms (in ${browser.downloads})`);
        const names = fresh();
        if (names.length === 1 && !names[0].endsWith(".part")) {
          const name = names[0];
          const size = sizeOf(name);
          await new Promise((ok) => setTimeout(ok, 100));
          const again = fresh();
          if (size !== null && size > 0 && sizeOf(name) === size && !partial(name)
              && again.length === 1 && again[0] === name) {
            const file = path.join(dir, name);
            try {
              fs.copyFileSync(path.join(browser.downloads, name), file);
              return { name, file };
            } catch {
              // Renamed between the look and the copy: look again.
            }
          }
          continue;
        }
        await new Promise((ok) => setTimeout(ok, 50));
      }
    },
  };
  return page;
}

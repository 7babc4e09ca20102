// The one-file report's rows, unpacked while the page is still being parsed.
// `crates/host/src/report/rows.rs` writes the row store's bytes (`trace::store::binary`) as
// blocks of `data-piece` bytes (the last fewer), each gzipped alone and in base64 in its own
// script element of class `rollscope-data`, the first naming the file (`data-name`) and the store's
// size (`data-bytes`), and after each block a script calling `__rollscope_rows.take()`. This
// script (in the head, allowed by its SHA-256 like those calls) defines that: each block is
// handed to a helper worker (from a `data:` URL, as the report's CSP allows) that decodes and
// inflates it while the page goes on parsing the next, and its bytes are put in place in one
// buffer. The report's start (`boot.js`, a module script: it runs once the page is parsed)
// then calls `done()`, which takes any block left (a report cut short has no call after its
// last block) and gives that buffer, or fails saying why (a block missing, cut short or
// changed: bad base64, a gzip stream cut short or failing its check, the wrong size).
window.__rollscope_rows = (() => {
  /** The most the viewer's worker reads from one file (`MAX_STORE` in `report.rs`). */
  const MAX_BYTES = 512 * 1048576;
  let name = "report";
  let size = 0;
  let piece = 0;
  let count = 0;
  let out = null;
  let taken = 0;
  let received = 0;
  let failed = false;
  let settle;
  const whole = new Promise((ok, fail) => { settle = { ok, fail }; });
  whole.catch(() => {}); // seen by `done()`'s caller
  /** Blocks given to a helper and not yet back: their texts, to inflate here if it fails. */
  const pending = new Map();
  let helpers = [];

  /** One block's base64 text → its inflated bytes. Runs in a helper (copied as text). */
  const inflate = async (text) => {
    let gz;
    if (Uint8Array.fromBase64) {
      gz = Uint8Array.fromBase64(text.trim());
    } else {
      const bin = atob(text.trim());
      gz = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) gz[i] = bin.charCodeAt(i);
    }
    const stream = new Blob([gz]).stream().pipeThrough(new DecompressionStream("gzip"));
    return await new Response(stream).arrayBuffer();
  };

  const stopHelpers = () => {
    for (const h of helpers) h.terminate();
    helpers = [];
  };

  const fail = (why) => {
    if (failed) return;
    failed = true;
    out = null;
    pending.clear();
    stopHelpers();
    settle.fail(new Error(why));
  };

  const got = (i, buf) => {
    if (failed || !pending.delete(i)) return;
    const want = Math.min(piece, size - i * piece);
    if (buf.byteLength !== want) {
      fail(`block ${i + 1} of ${count} holds ${buf.byteLength} bytes, not ${want}`);
      return;
    }
    out.set(new Uint8Array(buf), i * piece);
    received += 1;
    if (received === count) {
      stopHelpers();
      settle.ok(out);
    }
  };

  const inflateHere = (i, text) =>
    inflate(text).then((buf) => got(i, buf), (e) => fail(`block ${i + 1} of ${count}: ${e?.message || e}`));

  /** A helper failed as a whole (it could not start): its blocks and the rest are inflated here. */
  const helperFailed = () => {
    stopHelpers();
    for (const [i, text] of pending) inflateHere(i, text);
  };

  const startHelpers = () => {
    const source = `const inflate = ${String(inflate)};\n` +
      "onmessage = async ({ data: { i, text } }) => {\n" +
      "  try { const buf = await inflate(text); postMessage({ i, buf }, [buf]); }\n" +
      "  catch (e) { postMessage({ i, error: String(e?.message || e) }); }\n" +
      "};\n";
    const url = "data:text/javascript;charset=utf-8," + encodeURIComponent(source);
    const n = Math.max(1, Math.min(4, navigator.hardwareConcurrency || 2));
    try {
      for (let k = 0; k < n && k < count; k++) {
        const h = new Worker(url);
        h.onmessage = ({ data }) => {
          if (data.error !== undefined) fail(`block ${data.i + 1} of ${count}: ${data.error}`);
          else got(data.i, data.buf);
        };
        h.onerror = (e) => { e.preventDefault?.(); helperFailed(); };
        helpers.push(h);
      }
    } catch {
      stopHelpers();
    }
  };

  /** The first block's header: the file's name, the store's size and the block size. */
  const header = (el) => {
    name = el.dataset.name ?? name;
    size = Number(el.dataset.bytes);
    piece = Number(el.dataset.piece);
    if (!(Number.isInteger(size) && size > 0 && size <= MAX_BYTES && Number.isInteger(piece) && piece > 0)) {
      fail("the first block's sizes are missing or wrong");
      return;
    }
    count = Math.ceil(size / piece);
    out = new Uint8Array(size);
    startHelpers();
  };

  /** Takes every block parsed so far, removing it (its text is freed once inflated). */
  const take = () => {
    for (const el of document.querySelectorAll("script.rollscope-data")) {
      const text = el.textContent;
      el.remove();
      if (failed) continue;
      if (taken === 0) {
        header(el);
        if (failed) continue;
      }
      const i = taken++;
      if (i >= count) {
        fail(`more blocks than the ${count} the first one announces`);
        continue;
      }
      pending.set(i, text);
      if (helpers.length) helpers[i % helpers.length].postMessage({ i, text });
      else inflateHere(i, text);
    }
  };

  /** Once the page is parsed: the store's bytes, or why they cannot be had. */
  const done = () => {
    take();
    if (!failed && taken === 0) fail("the rows are missing");
    if (!failed && taken < count) fail(`the rows end after block ${taken} of ${count}`);
    return whole;
  };

  return { take, done, name: () => name };
})();

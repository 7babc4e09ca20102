// The one-file report's start. `crates/host/src/report.rs` puts this after the viewer's
// wasm-bindgen glue in the report's single module script (allowed by its SHA-256), inside a
// block so these names never clash with the glue's, and fills in the two glues' init names.
// Every payload is a base64 text block of gzip, inflated by the browser itself: nothing is
// fetched, so the report opens from file:// with no server and no network.

/** The text of a payload block, which is removed once read (large reports: free the text). */
const take = (id) => {
  const el = document.getElementById(id);
  const text = el.textContent.trim();
  el.remove();
  return text;
};

/**
 * base64 → bytes: the browser's own decoder where it has one, else a loop (`Uint8Array.from`
 * with a mapper is several times slower).
 */
const unb64 = (text) => {
  if (Uint8Array.fromBase64) return Uint8Array.fromBase64(text);
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
};

const gunzip = async (bytes) =>
  new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).arrayBuffer());

/**
 * The start of the parsing worker, run inside it after its glue: what the served
 * `worker_loader.js` does (`await init()`), with the wasm bytes carried in the worker's own
 * source instead of fetched. The worker's `main` then announces `ready` to the page. This
 * function is copied into the worker's source as text (`String(startWorker)`), so it may use
 * nothing from the page's scope.
 */
async function startWorker(init, wasmGzB64) {
  const bin = atob(wasmGzB64);
  const gz = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) gz[i] = bin.charCodeAt(i);
  const wasm = await new Response(new Blob([gz]).stream().pipeThrough(new DecompressionStream("gzip"))).arrayBuffer();
  await init({ module_or_path: wasm });
}

// Workers cannot start from a file:// URL, and in Chromium a module worker cannot start from
// a Blob URL made by a file:// page either (its origin is opaque, and module scripts are
// fetched with CORS): a data: URL can, with an opaque origin of its own. The report's CSP
// allows `worker-src data:` and nothing else. The page starts its worker from
// `__rollscope_worker_url` when it is set, and again after a crash, so the URL is kept.
const workerGlue = new TextDecoder().decode(await gunzip(unb64(take("rollscope-worker-js"))));
const workerSource = workerGlue +
  "\nawait (" + String(startWorker) + ")(WORKER_INIT, \"" + take("rollscope-worker-wasm") + "\");\n";
window.__rollscope_worker_url = "data:text/javascript;charset=utf-8," + encodeURIComponent(workerSource);

// The dump's rows: the row store's bytes (`trace::store::binary`), unpacked by the report's
// rows script (`rows.js`) while the page was parsed; the page opens these bytes through the
// worker like any opened file. A report cut short or changed fails here (a block missing, bad
// base64, a gzip stream cut short or failing its check): the page then says so rather than
// opening part of it.
const rows = window.__rollscope_rows;
// The viewer's wasm is inflated and compiled while the last blocks of rows are.
const viewerWasm = gunzip(unb64(take("rollscope-wasm"))).then((wasm) => WebAssembly.compile(wasm));
const unpack = async () => {
  if (!rows) throw new Error("the rows' script did not run");
  return await rows.done();
};
const name = () => rows?.name() ?? "report";
try {
  const bytes = await unpack();
  window.__rollscope_data = { name: name(), bytes };
} catch (e) {
  window.__rollscope_data = {
    name: name(),
    error: `this report's rows could not be unpacked (${e?.message || e}): the file was cut short ` +
      "or changed since it was written; write it again with `rollscope html`",
  };
}

await VIEWER_INIT({ module_or_path: await viewerWasm });

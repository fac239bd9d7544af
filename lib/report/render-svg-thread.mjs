// The report's SVG renderer, run on a worker thread (lib/report/plots.ts renderSvg starts
// it): compile a vega-lite spec and render it to an SVG string with vega's headless
// renderer. A plain .mjs module started without the TypeScript loader.
//
// vega and vega-lite are their single-file UMD bundles (build/vega.min.js and
// build/vega-lite.min.js, the ones the interactive pages inline, passed in as workerData),
// compiled with vm.Script: two files instead of vega's ~100 ES modules, and V8's code cache
// for them, written under os.tmpdir() after a first render (so it holds the functions
// rendering compiled) and keyed by the bundle's bytes, Node's version and the
// architecture; V8 checks it again and compiles afresh when it does not fit. The bundles are
// the same vega and vega-lite versions as the packages' ES modules and render the same bytes
// (test/report/plots.test.ts).
// Messages in: {id, spec}; out: {id, svg} or {id, error}.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';

const CACHE_DIR = path.join(os.tmpdir(), 'total-interp-v8-cache');

/** A UMD bundle's exports; `save` writes its code cache (null when the cache was used). */
function loadBundle(file, deps) {
  const src = fs.readFileSync(file, 'utf8');
  const key = createHash('sha256').update(`${process.version} ${process.arch}\n`).update(src).digest('hex').slice(0, 32);
  const cacheFile = path.join(CACHE_DIR, `${path.basename(file)}-${key}.bin`);
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(`(function (exports, require, module) {${src}\n})`, { filename: file, cachedData });
  const module = { exports: {} };
  const require = (name) => {
    if (name in deps) return deps[name];
    throw new Error(`${file} requires ${name}`);
  };
  script.runInThisContext()(module.exports, require, module);
  const save = cachedData && !script.cachedDataRejected ? null : () => writeCache(cacheFile, script.createCachedData());
  return { exports: module.exports, save };
}

/** Write a cache file whole or not at all (another process may be reading it). */
function writeCache(file, data) {
  try {
    fs.mkdirSync(CACHE_DIR, { recursive: true });
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch {
    // no cache: the next process compiles the bundles again
  }
}

let libs;
function vegaLibs() {
  if (!libs) {
    const vega = loadBundle(workerData.vega, {});
    const vl = loadBundle(workerData['vega-lite'], { vega: vega.exports });
    libs = { vega: vega.exports, vl: vl.exports, saves: [vega.save, vl.save].filter(Boolean) };
  }
  return libs;
}

/**
 * vega numbers clip paths and gradients from process-global counters, so the second render
 * of a chart would say clip7 where the first said clip1. Renumber them per document in
 * order of first appearance.
 */
export function stableIds(svg) {
  const ids = new Map();
  const rename = (id) => {
    let s = ids.get(id);
    if (s === undefined) ids.set(id, (s = `${id.replace(/\d+$/, '')}${ids.size + 1}`));
    return s;
  };
  return svg.replace(/(id="|url\(#)((?:p_)?(?:clip|gradient_)\d+)(?=[")])/g, (_, pre, id) => pre + rename(id));
}

/** One spec to SVG. */
export async function renderOne(spec) {
  const { vega, vl } = vegaLibs();
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none', logLevel: vega.Warn });
  try {
    return stableIds(await view.toSVG());
  } finally {
    view.finalize();
  }
}

// Renders run one after another, in the order asked: each one's ids come from the same
// counters, renumbered per document, so order does not change the bytes; one at a time
// keeps them from interleaving inside vega. When the queue first empties, the code caches
// that were missing are written.
let chain = Promise.resolve();
let queued = 0;
if (parentPort) {
  setImmediate(() => {
    try {
      vegaLibs(); // load at once, while the main thread gets the specs ready
    } catch {
      // the first render reports it
    }
  });
  parentPort.on('message', ({ id, spec }) => {
    queued++;
    chain = chain.then(async () => {
      try {
        parentPort.postMessage({ id, svg: await renderOne(spec) });
      } catch (e) {
        parentPort.postMessage({ id, error: e instanceof Error ? e.message : String(e) });
      }
      if (--queued === 0 && libs?.saves.length) {
        for (const save of libs.saves) save();
        libs.saves = [];
      }
    });
  });
}

// The report's SVG renderer, run on a worker thread (lib/report/plots.ts renderSvg starts
// it): compile a vega-lite spec and render it to an SVG string with vega's headless
// renderer. A plain .mjs module started without the TypeScript loader, so vega's ~100
// modules load at plain Node's speed (the loader's per-module hooks cost about twice the
// load itself), and the plots render beside the main thread's work.
// Messages in: {id, spec}; out: {id, svg} or {id, error}.

import { parentPort } from 'node:worker_threads';

const libs = Promise.all([import('vega'), import('vega-lite')]);

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

/** One spec to SVG (vega and vega-lite as loaded above). */
export async function renderOne(spec) {
  const [vega, vl] = await libs;
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none', logLevel: vega.Warn });
  try {
    return stableIds(await view.toSVG());
  } finally {
    view.finalize();
  }
}

// Renders run one after another, in the order asked: each one's ids come from the same
// counters, renumbered per document, so order does not change the bytes; one at a time
// keeps them from interleaving inside vega.
let chain = Promise.resolve();
parentPort?.on('message', ({ id, spec }) => {
  chain = chain.then(() =>
    renderOne(spec).then(
      (svg) => parentPort.postMessage({ id, svg }),
      (e) => parentPort.postMessage({ id, error: e instanceof Error ? e.message : String(e) }),
    ),
  );
});

// plots/interactive.html: the report's plots as live vega-embed charts (tooltips, zoom and
// pan with the mouse wheel and drag), one page for all of them with an anchor per plot
// (plots/interactive.html#influence), self-contained: the specs are the ones the SVGs
// are rendered from, and the vega bundles are inlined, so it opens from disk with no
// network. One page rather than one per plot: each would carry the same 0.8 MB of
// library code.

import { NO_NETWORK_CSP, bundleScripts, scriptJson } from './viewer/libs.ts';

type Spec = Record<string, any>;

const continuous = (enc: Spec | undefined) => !!enc && (enc.type === 'quantitative' || enc.type === 'temporal');

/**
 * The spec with tooltips on every mark and, on the first layer (or view) whose x or y is
 * continuous, an interval selection bound to the scales: wheel zooms, drag pans. Ordinal
 * axes (bins, units) do not zoom.
 */
export function interactiveSpec(spec: Spec): Spec {
  const out: Spec = structuredClone(spec);
  out.config = { ...(out.config ?? {}), mark: { ...(out.config?.mark ?? {}), tooltip: { content: 'data' } } };
  const views: Spec[] = out.layer ? out.layer : [out];
  for (const v of views) {
    const enc = v.encoding ?? {};
    const channels = ['x', 'y'].filter((c) => continuous(enc[c]) && !enc[c].scale?.type?.startsWith?.('log') && !enc[c].scale?.domain);
    if (!channels.length || !v.mark) continue;
    v.params = [...(v.params ?? []), { name: 'zoom', select: { type: 'interval', encodings: channels }, bind: 'scales' }];
    break;
  }
  return out;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function interactivePlotsHtml(label: string, plots: { name: string; title: string; spec: object }[], libs: Record<string, string>): string {
  const bundles = bundleScripts(libs, 'interactive plots');
  const charts = plots.map((p) => ({ name: p.name, spec: interactiveSpec(p.spec as Spec) }));
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    NO_NETWORK_CSP,
    `<title>Plots: ${esc(label)}</title>`,
    '<style>body{font:14px/1.4 system-ui,sans-serif;margin:1em 1.5em;color:#222} section{margin:1.5em 0} h2{font-size:1.05em} .note{color:#666}</style>',
    '</head>',
    '<body>',
    `<h1>Plots <small class="note">${esc(label)}</small></h1>`,
    '<p class="note">Hover for values; on charts with a continuous axis the wheel zooms and a drag pans (double-click resets). <a href="../report.md">report.md</a></p>',
    ...plots.map((p) => `<section id="${esc(p.name)}"><h2>${esc(p.title)}</h2><div class="chart" id="chart-${esc(p.name)}"></div></section>`),
    `<script type="application/json" id="plot-specs">${scriptJson(charts)}</script>`,
    ...bundles,
    '<script>',
    '(function () {',
    "  var charts = JSON.parse(document.getElementById('plot-specs').textContent);",
    "  Promise.all(charts.map(function (c) { return vegaEmbed('#chart-' + c.name, c.spec, { actions: false, renderer: 'svg' }); }))",
    "    .then(function () { document.body.setAttribute('data-ready', '1'); })",
    '    .catch(function (e) { console.error(e); });',
    '})();',
    '</script>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

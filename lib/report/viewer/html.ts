// viewer.html: one self-contained page. The data is embedded as JSON in a
// <script type="application/json"> element, the vega/vega-lite/vega-embed bundles are
// inlined, and the page's own script (client.ts) uses no framework. Nothing is fetched:
// the page opens from a file:// URL with the network off.

import { CLIENT_CSS, CLIENT_JS } from './client.ts';
import type { ViewerData } from './data.ts';
import { NO_NETWORK_CSP, bundleScripts, scriptJson } from './libs.ts';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The page. `libs`: the text of the vega, vega-lite and vega-embed bundles, by name. */
export function viewerHtml(data: ViewerData, libs: Record<string, string>): string {
  const bundles = bundleScripts(libs, 'viewer');
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    NO_NETWORK_CSP,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>total-interp viewer: ${esc(data.label)}</title>`,
    `<style>${CLIENT_CSS}</style>`,
    '</head>',
    '<body>',
    `<header><h1>Per-position viewer <span class="label">${esc(data.label)}</span></h1>`,
    '<p class="sub">Each byte x<sub>t</sub> of the text is one cell; position t predicts the next byte x<sub>t+1</sub>. Click a byte (or use ← / →) to see that prediction; pick a unit to colour the text by its state, and a second one to see them side by side. Links: <code>viewer.html#t=29&amp;unit=8</code>. <a href="report.md">report.md</a></p></header>',
    '<p id="window"></p>',
    '<section id="controls">',
    '<label>colour by <select id="quantity"></select></label>',
    '<label>unit <select id="unit"><option value="">none</option></select></label>',
    '<label>beside it <select id="unit2"><option value="">none</option></select></label>',
    '<span id="legend"></span>',
    '</section>',
    '<p id="notice" role="status" hidden></p>',
    '<section id="strip" aria-label="the text, one cell per byte"></section>',
    '<main>',
    '<section id="pos-panel" class="panel"></section>',
    '<section id="unit-panel" class="panel"></section>',
    '</main>',
    '<section id="heatmap-panel" class="panel">',
    '<h2>Units \u00d7 positions</h2>',
    `<div class="hm-controls"><label>show <select id="hm-what"><option value="state">state S[t] of each unit</option>${data.carriers ? '<option value="carrier">carrier c\u209c = Wh\u00b7S[t\u22121] + bh of each unit</option>' : ''}<option value="ps">pattern-sensitive (PS) or not</option></select></label>`,
    '<label>units sorted by <select id="hm-sort"><option value="unit">unit number</option><option value="ps">PS count (most first)</option><option value="mean">mean |value shown| (largest first)</option><option value="at">value shown at the selected position (largest first)</option></select></label>',
    '<span class="muted">one row per unit, one column per position; click to pick both</span></div>',
    '<div id="hm-wrap"><canvas id="heatmap"></canvas></div>',
    '<p id="hm-legend"></p>',
    '<p id="hm-info" class="muted"></p>',
    '</section>',
    `<script type="application/json" id="viewer-data">${scriptJson(data)}</script>`,
    ...bundles,
    `<script>${CLIENT_JS}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

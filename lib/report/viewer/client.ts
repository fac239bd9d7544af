// The viewer page's own script and style, as plain browser JavaScript (no framework, no
// build step): it reads the embedded JSON, draws the text strip, the position panel and
// the unit panel, and the influence bar chart with vega-embed. Kept as a string so the
// page is exactly what is written here.

export const CLIENT_CSS = String.raw`
body { font: 14px/1.4 system-ui, sans-serif; margin: 0 1.2em 2em; color: #222; }
h1 { font-size: 1.25em; margin: .6em 0 .1em; }
h1 .label { font-weight: normal; color: #666; font-family: ui-monospace, monospace; font-size: .8em; }
h2 { font-size: 1.05em; margin: .2em 0 .4em; }
.sub { margin: 0 0 .6em; color: #555; }
#controls { display: flex; gap: 1.2em; align-items: center; flex-wrap: wrap; margin-bottom: .5em; }
#legend { display: inline-flex; align-items: center; gap: .4em; font-size: 12px; color: #444; }
#legend .bar { width: 160px; height: 12px; border: 1px solid #ccc; }
#strip { font: 13px/1.55 ui-monospace, SFMono-Regular, Menlo, monospace; display: flex; flex-wrap: wrap; border: 1px solid #ddd; padding: 4px; max-height: 38vh; overflow-y: auto; }
#strip .b { display: inline-block; min-width: 1ch; padding: 0 1px; cursor: pointer; white-space: pre; border-bottom: 2px solid transparent; }
#strip .b.ctl { color: #777; }
#strip .b.sel { outline: 2px solid #000; outline-offset: -1px; }
#strip .b.tgt { outline: 2px dashed #000; outline-offset: -1px; }
#strip .b.ps { border-bottom-color: #000; }
main { display: grid; grid-template-columns: minmax(380px, 1.1fr) minmax(300px, 1fr); gap: 1em; margin-top: .8em; }
.panel { border: 1px solid #ddd; padding: .6em .8em; min-height: 6em; }
table.kv { border-collapse: collapse; margin: .3em 0 .6em; }
table.kv td, table.kv th { padding: 1px 10px 1px 0; text-align: left; vertical-align: top; }
table.kv td.num { text-align: right; font-variant-numeric: tabular-nums; font-family: ui-monospace, monospace; }
.ctx { font-family: ui-monospace, monospace; background: #f6f6f6; padding: 2px 4px; white-space: pre; overflow-x: auto; }
.ctx .cur { background: #ffd54f; } .ctx .tgt { background: #a5d6a7; }
.units a { font-family: ui-monospace, monospace; margin-right: .5em; cursor: pointer; color: #1565c0; text-decoration: none; }
.muted { color: #777; }
@media (max-width: 800px) { main { grid-template-columns: 1fr; } }
`;

export const CLIENT_JS = String.raw`
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('viewer-data').textContent);
  var N = D.N, H = D.H, T = Math.max(0, N - 1);

  function b64bytes(s) { var bin = atob(s), a = new Uint8Array(bin.length); for (var i = 0; i < bin.length; i++) a[i] = bin.charCodeAt(i); return a; }
  var psPacked = b64bytes(D.psBits);
  function isPS(t, j) { var i = t * H + j; return (psPacked[i >> 3] >> (i & 7)) & 1; }
  var states = new Int8Array(b64bytes(D.states).buffer);
  function state(t, j) { return states[t * H + j] / 127; }

  function ch(b) {
    if (b === 10) return '\u21b5'; if (b === 9) return '\u21e5'; if (b === 32) return '\u2423';
    if (b >= 33 && b < 127) return String.fromCharCode(b);
    return '\u00b7';
  }
  function named(b) {
    if (b === 10) return '\\n'; if (b === 9) return '\\t'; if (b === 32) return "' ' (space)";
    if (b >= 33 && b < 127) return "'" + String.fromCharCode(b) + "'";
    return '\\x' + (b < 16 ? '0' : '') + b.toString(16);
  }
  function hex(b) { return '0x' + (b < 16 ? '0' : '') + b.toString(16); }
  function fmt(x, d) { return (x === null || x === undefined || !isFinite(x)) ? '\u2014' : x.toFixed(d); }
  function signed(x, d) { return (x > 0 ? '+' : '') + fmt(x, d); }
  function prob(bits) { var p = Math.pow(2, -bits); return p < 1e-4 ? p.toExponential(2) : p.toFixed(4); }
  function el(tag, attrs, html) { var e = document.createElement(tag); for (var k in attrs || {}) e.setAttribute(k, attrs[k]); if (html !== undefined) e.innerHTML = html; return e; }
  function escHtml(s) { return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'); }

  // ---------------------------------------------------------------- colour scales
  var QUANT = [
    { key: 'actualBits', label: 'actual bits of x_{t+1}', kind: 'seq' },
    { key: 'carrierOnlyBits', label: 'carrier-only bits of x_{t+1}', kind: 'seq' },
    { key: 'patternGain', label: 'pattern gain (carrier-only \u2212 actual bits)', kind: 'div' },
    { key: 'psCount', label: 'number of pattern-sensitive units', kind: 'seq' },
    { key: 'carrierLogit', label: 'carrier logit of x_{t+1} (\u00a75.4)', kind: 'div' },
    { key: 'patternLogit', label: 'pattern logit of x_{t+1} (\u00a75.4)', kind: 'div' },
  ];
  function values(key) {
    if (D.quantities[key]) return D.quantities[key];
    if (key === 'carrierLogit') return D.decomposition.carrier;
    if (key === 'patternLogit') return D.decomposition.pattern;
    return [];
  }
  function seqColour(u) { // white -> dark red, u in [0, 1]
    u = Math.max(0, Math.min(1, u));
    var r = 255 - Math.round(u * 75), g = 255 - Math.round(u * 215), b = 255 - Math.round(u * 205);
    return 'rgb(' + r + ',' + g + ',' + b + ')';
  }
  function divColour(u) { // u in [-1, 1]: blue - white - red
    u = Math.max(-1, Math.min(1, u));
    if (u >= 0) return seqColour(u);
    var a = -u; return 'rgb(' + (255 - Math.round(a * 205)) + ',' + (255 - Math.round(a * 140)) + ',' + (255 - Math.round(a * 35)) + ')';
  }
  function maxAbs(v) { var m = 0; for (var i = 0; i < v.length; i++) if (isFinite(v[i]) && Math.abs(v[i]) > m) m = Math.abs(v[i]); return m || 1; }

  // ---------------------------------------------------------------- state
  var sel = Math.min(Math.max(0, D.position), Math.max(0, T - 1));
  var unit = null;
  var qSel = document.getElementById('quantity');
  var uSel = document.getElementById('unit');
  QUANT.forEach(function (q) { qSel.appendChild(el('option', { value: q.key }, escHtml(q.label))); });
  qSel.appendChild(el('option', { value: 'unitState' }, 'state S[t] of the picked unit'));
  D.units.forEach(function (u) { uSel.appendChild(el('option', { value: String(u.unit) }, 'h' + u.unit + ' (PS at ' + u.psCount + ')')); });

  // ---------------------------------------------------------------- strip
  var strip = document.getElementById('strip');
  var cells = [];
  for (var t = 0; t < N; t++) {
    var b = D.bytes[t];
    var c = el('span', { 'class': 'b' + ((b < 33 || b >= 127) ? ' ctl' : ''), 'data-t': String(t) });
    c.textContent = ch(b);
    strip.appendChild(c);
    cells.push(c);
  }
  strip.addEventListener('click', function (e) { var t = e.target.getAttribute && e.target.getAttribute('data-t'); if (t !== null && t !== undefined) select(Number(t)); });

  function colourStrip() {
    var key = qSel.value;
    var legend = document.getElementById('legend');
    if (key === 'unitState') {
      if (unit === null) { legend.innerHTML = '<span class="muted">pick a unit</span>'; cells.forEach(function (c) { c.style.background = ''; }); return; }
      for (var t = 0; t < N; t++) cells[t].style.background = divColour(state(t, unit));
      legend.innerHTML = '\u22121 <span class="bar" style="background:linear-gradient(90deg,' + divColour(-1) + ',#fff,' + divColour(1) + ')"></span> +1 &nbsp;S[t][h' + unit + ']; underlined: PS';
      return;
    }
    var q = QUANT.filter(function (x) { return x.key === key; })[0];
    var v = values(key), m = maxAbs(v);
    for (var t2 = 0; t2 < N; t2++) {
      var x = t2 < v.length ? v[t2] : null;
      // sqrt: most positions are near 0 bits; the few expensive ones should not wash the rest out
      cells[t2].style.background = (x === null || !isFinite(x)) ? '#eee' : q.kind === 'seq' ? seqColour(Math.sqrt(Math.max(0, x) / m)) : divColour((x < 0 ? -1 : 1) * Math.sqrt(Math.abs(x) / m));
      cells[t2].title = 't = ' + t2 + ': ' + (x === null ? 'no prediction' : q.label + ' = ' + fmt(x, 4));
    }
    legend.innerHTML = (q.kind === 'seq' ? '0' : fmt(-m, 2)) + ' <span class="bar" style="background:linear-gradient(90deg,' + (q.kind === 'seq' ? seqColour(0) : divColour(-1)) + ',' + (q.kind === 'seq' ? seqColour(0.5) : '#fff') + ',' + seqColour(1) + ')"></span> ' + fmt(m, 2) + ' (square-root scale)';
  }

  function markStrip() {
    cells.forEach(function (c, t) {
      c.classList.toggle('sel', t === sel);
      c.classList.toggle('tgt', t === sel + 1);
      c.classList.toggle('ps', unit !== null && t < T && !!isPS(t, unit));
    });
  }

  // ---------------------------------------------------------------- position panel
  var view = null;
  function influenceRow(t) {
    var I = D.influence; if (!I) return null;
    var r = t - I.firstT, rows = I.values.length / I.D;
    if (r < 0 || r >= rows) return null;
    return I.values.slice(r * I.D, (r + 1) * I.D);
  }
  function positionPanel() {
    var t = sel, P = document.getElementById('pos-panel');
    if (T === 0) { P.innerHTML = '<p class="muted">no positions</p>'; return; }
    var x = D.bytes[t], o = D.bytes[t + 1];
    var q = D.quantities, d = D.decomposition, k = d.k;
    var from = Math.max(0, t - 40), ctx = '';
    for (var s = from; s <= Math.min(N - 1, t + 1); s++) ctx += '<span class="' + (s === t ? 'cur' : s === t + 1 ? 'tgt' : '') + '">' + escHtml(ch(D.bytes[s])) + '</span>';
    var tops = '';
    for (var i = 0; i < k; i++) {
      var j = d.topUnits[t * k + i]; if (j < 0) continue;
      tops += '<tr><td><a data-unit="' + j + '">h' + j + '</a></td><td class="num">' + signed(d.topContrib[t * k + i], 3) + '</td></tr>';
    }
    var ps = [];
    for (var j2 = 0; j2 < H; j2++) if (isPS(t, j2)) ps.push(j2);
    var tot = d.total[t];
    P.innerHTML =
      '<h2>Position t = <span id="pos-t">' + t + '</span>: byte ' + escHtml(named(x)) + ' (' + hex(x) + ') \u2192 target ' + escHtml(named(o)) + ' (' + hex(o) + ')' + (t === D.position ? ' <span class="muted">(the paper\u2019s \u00a75.4 example)</span>' : '') + '</h2>' +
      '<div class="ctx">' + ctx + '</div>' +
      '<table class="kv"><tr><th></th><th>p(target)</th><th>bits</th></tr>' +
      '<tr><td>actual state S[t]</td><td class="num" id="p-actual">' + prob(q.actualBits[t]) + '</td><td class="num">' + fmt(q.actualBits[t], 4) + '</td></tr>' +
      '<tr><td>carrier-only state h\u2032<sub>t</sub></td><td class="num" id="p-carrier">' + prob(q.carrierOnlyBits[t]) + '</td><td class="num">' + fmt(q.carrierOnlyBits[t], 4) + '</td></tr></table>' +
      '<h2>\u00a75.4 decomposition of the target logit</h2>' +
      '<table class="kv">' +
      '<tr><td>carrier logit Wy[o]\u00b7h\u2032<sub>t</sub> + by[o]</td><td class="num" id="carrier-logit">' + signed(d.carrier[t], 3) + '</td><td class="num">' + fmt(tot ? 100 * d.carrier[t] / tot : NaN, 1) + '%</td></tr>' +
      '<tr><td>pattern logit Wy[o]\u00b7\u03b4<sub>t</sub></td><td class="num" id="pattern-logit">' + signed(d.pattern[t], 3) + '</td><td class="num">' + fmt(tot ? 100 * d.pattern[t] / tot : NaN, 1) + '%</td></tr>' +
      '<tr><td>total</td><td class="num" id="total-logit">' + signed(tot, 3) + '</td><td></td></tr></table>' +
      '<table class="kv units"><tr><th>top units by |Wy[o][j]\u00b7\u03b4<sub>t</sub>[j]|</th><th></th></tr>' + (tops || '<tr><td class="muted">no pattern-sensitive unit</td></tr>') + '</table>' +
      '<p class="units"><b id="ps-count">' + ps.length + '</b> pattern-sensitive units at t: ' + ps.map(function (j) { return '<a data-unit="' + j + '">h' + j + '</a>'; }).join('') + '</p>' +
      '<h2>Influence of the previous bytes (eq. 7)</h2><div id="influence"></div>' +
      '<p class="muted" style="font-size:12px">decomposition from the ' + escHtml(d.source) + '</p>';
    drawInfluence(t);
  }
  function drawInfluence(t) {
    if (view) { view.finalize(); view = null; }
    var box = document.getElementById('influence');
    var row = influenceRow(t);
    if (!row) {
      box.innerHTML = '<p class="muted">' + (D.influence ? 'computed for t = ' + D.influence.firstT + '..' + (D.influence.firstT + D.influence.values.length / D.influence.D - 1) + ' only' : 'no influence stage output') + '</p>';
      return;
    }
    var vals = row.map(function (v, dd) { return { d: dd, influence: v, byte: named(D.bytes[t - dd]) }; });
    var spec = {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      width: 'container', height: 140, data: { values: vals },
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'd', type: 'ordinal', title: 'offset d (byte x_{t\u2212d})', axis: { labelAngle: 0, values: [0, 5, 10, 15, 20, 25, 30, 35, 40, 45] } },
        y: { field: 'influence', type: 'quantitative', title: 'G\u00b7\u03b4' },
        color: { condition: { test: 'datum.influence < 0', value: '#5c8dd6' }, value: '#c0392b' },
        tooltip: [{ field: 'd' }, { field: 'byte' }, { field: 'influence', format: '.3f' }],
      },
    };
    vegaEmbed(box, spec, { actions: false, renderer: 'svg' }).then(function (r) { view = r.view; }).catch(function (e) { console.error(e); });
  }

  // ---------------------------------------------------------------- unit panel
  function cellText(v) { return typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v); }
  function tableHtml(x) {
    if (x === null || x === undefined) return '';
    if (typeof x === 'number') return escHtml(cellText(x));
    if (Array.isArray(x)) {
      if (x.length && typeof x[0] === 'object' && x[0] !== null && !Array.isArray(x[0])) {
        var keys = Object.keys(x[0]);
        return '<table class="kv"><tr>' + keys.map(function (k) { return '<th>' + escHtml(k) + '</th>'; }).join('') + '</tr>' +
          x.map(function (r) { return '<tr>' + keys.map(function (k) { return '<td>' + escHtml(cellText(r[k])) + '</td>'; }).join('') + '</tr>'; }).join('') + '</table>';
      }
      return escHtml(JSON.stringify(x));
    }
    if (typeof x === 'object') return '<table class="kv">' + Object.keys(x).map(function (k) { return '<tr><td>' + escHtml(k) + '</td><td>' + tableHtml(x[k]) + '</td></tr>'; }).join('') + '</table>';
    return escHtml(String(x));
  }
  // The §6.2 stage's output, searched for this unit's entry (an array of objects with a
  // unit field, or an object keyed by unit or "h<unit>"), whatever the exact shape.
  function patternTable(j) {
    var P = D.patternTables; if (!P) return undefined;
    var found;
    (function walk(x, depth) {
      if (found !== undefined || x === null || typeof x !== 'object' || depth > 3) return;
      if (Array.isArray(x)) { x.forEach(function (e) { if (found === undefined && e && typeof e === 'object' && e.unit === j) found = e; }); x.forEach(function (e) { walk(e, depth + 1); }); return; }
      if (x['h' + j] !== undefined) { found = x['h' + j]; return; }
      if (x[String(j)] !== undefined && /^\d+$/.test(String(j))) { found = x[String(j)]; return; }
      Object.keys(x).forEach(function (k) { walk(x[k], depth + 1); });
    })(P, 0);
    return found === undefined ? null : found;
  }
  function unitPanel() {
    var U = document.getElementById('unit-panel');
    if (unit === null) { U.innerHTML = '<h2>Unit</h2><p class="muted">Pick a unit above (or click one in the position panel) to colour the text by its state.</p>'; return; }
    var u = D.units[unit];
    var pt = patternTable(unit);
    U.innerHTML = '<h2>Unit h' + unit + '</h2><table class="kv">' +
      '<tr><td>Table 1 pair (state offsets)</td><td class="num" id="unit-pair">' + (u.pair ? '(' + u.pair[0] + ', ' + u.pair[1] + ')' : '\u2014') + '</td></tr>' +
      '<tr><td>R\u00b2 of its pair</td><td class="num" id="unit-r2">' + fmt(u.r2, 4) + '</td></tr>' +
      '<tr><td>positions where PS</td><td class="num"><span id="unit-ps-count">' + u.psCount + '</span> of ' + T + '</td></tr>' +
      '<tr><td>S[t] at t = ' + sel + '</td><td class="num">' + fmt(state(sel, unit), 2) + (sel < T && isPS(sel, unit) ? ' (PS)' : '') + '</td></tr></table>' +
      (pt === undefined ? '<p class="muted">Pattern table: the \u00a76.2 pattern-tables stage has not run for this report.</p>' :
        pt === null ? '<p class="muted">No pattern table for h' + unit + '.</p>' : '<h2>Pattern table</h2><div id="pattern-table">' + tableHtml(pt) + '</div>');
  }

  // ---------------------------------------------------------------- wiring
  function select(t) {
    if (T === 0) return;
    sel = Math.max(0, Math.min(T - 1, t));
    markStrip();
    positionPanel();
    unitPanel();
    var c = cells[sel]; if (c && c.scrollIntoView) c.scrollIntoView({ block: 'nearest' });
  }
  function pickUnit(j) {
    unit = j === '' || j === null ? null : Number(j);
    uSel.value = unit === null ? '' : String(unit);
    if (unit !== null) qSel.value = 'unitState';
    colourStrip(); markStrip(); unitPanel();
  }
  qSel.addEventListener('change', colourStrip);
  uSel.addEventListener('change', function () { pickUnit(uSel.value); });
  document.getElementById('pos-panel').addEventListener('click', function (e) { var j = e.target.getAttribute && e.target.getAttribute('data-unit'); if (j !== null && j !== undefined) pickUnit(j); });
  document.addEventListener('keydown', function (e) {
    if (e.target && (e.target.tagName === 'SELECT' || e.target.tagName === 'INPUT')) return;
    if (e.key === 'ArrowLeft') { select(sel - 1); e.preventDefault(); }
    else if (e.key === 'ArrowRight') { select(sel + 1); e.preventDefault(); }
  });
  colourStrip();
  select(sel);
  document.body.setAttribute('data-ready', '1');
})();
`;

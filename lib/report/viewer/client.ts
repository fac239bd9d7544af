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
#legend .bar, #hm-legend .bar { display: inline-block; width: 160px; height: 12px; border: 1px solid #ccc; vertical-align: middle; }
#hm-legend { font-size: 12px; color: #444; }
#hm-legend .swatch { display: inline-block; width: 12px; height: 12px; border: 1px solid #ccc; vertical-align: middle; }
#window { margin: 0 0 .5em; color: #555; }
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
#notice { background: #fff3cd; border: 1px solid #e0c36a; padding: .4em .7em; margin: .3em 0 .5em; }
.cards { display: flex; gap: 1em; flex-wrap: wrap; }
.cards .card { flex: 1 1 300px; min-width: 0; }
table.kv td .bar { display: inline-block; height: 9px; background: #c0392b; vertical-align: middle; }
tr.target td { font-weight: bold; }
table.pt { border-collapse: collapse; font-size: 12.5px; margin: .3em 0; }
table.pt th { text-align: left; font-weight: 600; border-bottom: 1px solid #ccc; padding: 1px 8px 1px 0; vertical-align: bottom; }
table.pt td { padding: 1px 8px 1px 0; border-bottom: 1px solid #f0f0f0; }
table.pt td:first-child { white-space: nowrap; }
table.pt td code { overflow-wrap: anywhere; }
table.pt td.num { text-align: right; font-variant-numeric: tabular-nums; font-family: ui-monospace, monospace; }
table.ctxs td { padding: 1px 8px 1px 0; }
table.ctxs a { cursor: pointer; color: #1565c0; }
#heatmap-panel { margin-top: 1em; }
.hm-controls { display: flex; gap: 1.2em; flex-wrap: wrap; align-items: center; margin-bottom: .4em; }
#hm-wrap { overflow-x: auto; }
#heatmap { width: 100%; image-rendering: pixelated; cursor: crosshair; border: 1px solid #ddd; display: block; }
@media (max-width: 800px) { main { grid-template-columns: 1fr; } }
`;

export const CLIENT_JS = String.raw`
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('viewer-data').textContent);
  // The page holds a window of the text: local index i (0..N-1) is position O + i of the
  // text. Arrays are indexed locally; every t shown or linked is the text's.
  var N = D.N, H = D.H, T = Math.max(0, N - 1);
  var O = D.offset || 0, TEXT_N = D.textBytes || N, TEXT_T = Math.max(0, TEXT_N - 1);

  function b64bytes(s) { var bin = atob(s), a = new Uint8Array(bin.length); for (var i = 0; i < bin.length; i++) a[i] = bin.charCodeAt(i); return a; }
  var psPacked = b64bytes(D.psBits);
  function isPS(t, j) { var i = t * H + j; return (psPacked[i >> 3] >> (i & 7)) & 1; }
  var states = new Int8Array(b64bytes(D.states).buffer);
  function state(t, j) { return states[t * H + j] / 127; }
  // carriers: int16 little-endian at D.carriers.scale
  var carriers = null;
  if (D.carriers) {
    var cb = b64bytes(D.carriers.data), dv = new DataView(cb.buffer);
    carriers = new Float32Array(cb.length / 2);
    for (var ci = 0; ci < carriers.length; ci++) carriers[ci] = dv.getInt16(2 * ci, true) * D.carriers.scale;
  }
  function carrierAt(t, j) { return carriers ? carriers[t * H + j] : NaN; }
  // the carrier's colour saturates at the 99th percentile of |c| (a few large carriers
  // would otherwise wash the rest out)
  var cRange = 1;
  if (carriers && carriers.length) {
    var absC = Float32Array.from(carriers, Math.abs).sort();
    cRange = absC[Math.min(absC.length - 1, Math.floor(0.99 * absC.length))] || 1;
  }

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
    { key: 'actualBits', label: 'actual bits of the next byte x\u209c\u208a\u2081', kind: 'seq' },
    { key: 'carrierOnlyBits', label: 'carrier-only bits of the next byte x\u209c\u208a\u2081', kind: 'seq' },
    { key: 'patternGain', label: 'pattern gain (carrier-only \u2212 actual bits)', kind: 'div' },
    { key: 'psCount', label: 'number of pattern-sensitive units', kind: 'seq' },
    { key: 'carrierLogit', label: 'carrier logit of the next byte (\u00a75.4)', kind: 'div' },
    { key: 'patternLogit', label: 'pattern logit of the next byte (\u00a75.4)', kind: 'div' },
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
  var sel = D.position >= O && D.position - O < T ? D.position - O : 0;
  var unit = null, unit2 = null;
  var qSel = document.getElementById('quantity');
  var uSel = document.getElementById('unit');
  var uSel2 = document.getElementById('unit2');
  QUANT.forEach(function (q) { qSel.appendChild(el('option', { value: q.key }, escHtml(q.label))); });
  qSel.appendChild(el('option', { value: 'unitState' }, 'state S[t] of the picked unit'));
  D.units.forEach(function (u) {
    uSel.appendChild(el('option', { value: String(u.unit) }, 'h' + u.unit + ' (PS at ' + u.psCount + ')'));
    uSel2.appendChild(el('option', { value: String(u.unit) }, 'h' + u.unit + ' (PS at ' + u.psCount + ')'));
  });

  // ---------------------------------------------------------------- strip
  var strip = document.getElementById('strip');
  var cells = [];
  for (var t = 0; t < N; t++) {
    var b = D.bytes[t];
    var c = el('span', { 'class': 'b' + ((b < 33 || b >= 127) ? ' ctl' : ''), 'data-t': String(O + t) });
    c.textContent = ch(b);
    strip.appendChild(c);
    cells.push(c);
  }
  strip.addEventListener('click', function (e) { var t = e.target.getAttribute && e.target.getAttribute('data-t'); if (t !== null && t !== undefined) select(Number(t) - O); });

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
      cells[t2].title = 't = ' + (O + t2) + ': ' + (x === null ? 'no prediction' : q.label + ' = ' + fmt(x, 4));
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
    var r = O + t - I.firstT, rows = I.values.length / I.D;
    if (r < 0 || r >= rows) return null;
    return I.values.slice(r * I.D, (r + 1) * I.D);
  }
  function topkHtml(t, target) {
    var K = D.topk; if (!K) return '';
    var rows = '', inTop = false;
    for (var i = 0; i < K.k; i++) {
      var b = K.bytes[t * K.k + i], p = K.probs[t * K.k + i];
      if (b === target) inTop = true;
      rows += '<tr' + (b === target ? ' class="target"' : '') + '><td>' + escHtml(named(b)) + ' <span class="muted">' + hex(b) + '</span></td><td class="num"' + (i === 0 ? ' id="topk-p0"' : '') + '>' + p.toFixed(4) + '</td><td><span class="bar" style="width:' + Math.round(120 * p) + 'px"></span>' + (b === target ? ' the actual next byte' : '') + '</td></tr>';
    }
    return '<h2>Most probable next bytes</h2><table class="kv" id="topk"><tr><th>next byte</th><th>p</th><th></th></tr>' + rows + '</table>' +
      (inTop ? '' : '<p class="muted" style="font-size:12px">the actual next byte ' + escHtml(named(target)) + ' is not among these ' + K.k + '</p>');
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
      '<h2>Position t = <span id="pos-t">' + (O + t) + '</span>: byte ' + escHtml(named(x)) + ' (' + hex(x) + ') \u2192 target ' + escHtml(named(o)) + ' (' + hex(o) + ')' + (O + t === D.position ? ' <span class="muted">(the paper\u2019s \u00a75.4 example)</span>' : '') + '</h2>' +
      '<div class="ctx">' + ctx + '</div>' +
      '<table class="kv"><tr><th></th><th>p(target)</th><th>bits</th></tr>' +
      '<tr><td>actual state S[t]</td><td class="num" id="p-actual">' + prob(q.actualBits[t]) + '</td><td class="num">' + fmt(q.actualBits[t], 4) + '</td></tr>' +
      '<tr><td>carrier-only state h\u2032<sub>t</sub></td><td class="num" id="p-carrier">' + prob(q.carrierOnlyBits[t]) + '</td><td class="num">' + fmt(q.carrierOnlyBits[t], 4) + '</td></tr></table>' +
      topkHtml(t, o) +
      '<h2>\u00a75.4 decomposition of the target logit</h2>' +
      '<table class="kv">' +
      '<tr><td>carrier logit Wy[o]\u00b7h\u2032<sub>t</sub> + by[o]</td><td class="num" id="carrier-logit">' + signed(d.carrier[t], 3) + '</td><td class="num">' + fmt(tot ? 100 * d.carrier[t] / tot : NaN, 1) + '%</td></tr>' +
      '<tr><td>pattern logit Wy[o]\u00b7\u03b4<sub>t</sub></td><td class="num" id="pattern-logit">' + signed(d.pattern[t], 3) + '</td><td class="num">' + fmt(tot ? 100 * d.pattern[t] / tot : NaN, 1) + '%</td></tr>' +
      '<tr><td>total</td><td class="num" id="total-logit">' + signed(tot, 3) + '</td><td></td></tr></table>' +
      '<table class="kv units"><tr><th>top units by |Wy[o][j]\u00b7\u03b4<sub>t</sub>[j]|</th><th></th></tr>' + (tops || '<tr><td class="muted">no pattern-sensitive unit</td></tr>') + '</table>' +
      '<p class="units"><b id="ps-count">' + ps.length + '</b> pattern-sensitive units at t: ' + ps.map(function (j) { return '<a data-unit="' + j + '">h' + j + '</a>'; }).join(' ') + '</p>' +
      '<h2>Influence of the previous bytes (eq. 7)</h2><div id="influence"></div>' +
      '<p class="muted" style="font-size:12px">decomposition from the ' + escHtml(d.source) + '</p>';
    drawInfluence(t);
  }
  function drawInfluence(t) {
    if (view) { view.finalize(); view = null; }
    var box = document.getElementById('influence');
    var row = influenceRow(t);
    if (!row) {
      box.innerHTML = '<p class="muted">' + (D.influence ? 'computed for t = ' + D.influence.computed[0] + '..' + D.influence.computed[1] + ' only' : 'no influence stage output') + '</p>';
      return;
    }
    var vals = row.map(function (v, dd) { return { d: dd, influence: v, byte: t - dd >= 0 ? named(D.bytes[t - dd]) : '(before the window)' }; });
    var spec = {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      width: 'container', height: 140, data: { values: vals },
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'd', type: 'ordinal', title: 'offset d (the byte d before t)', axis: { labelAngle: 0, values: [0, 5, 10, 15, 20, 25, 30, 35, 40, 45] } },
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
  // A §6.2 pattern table in words: one row per prefix cell (word length, inside a tag or not).
  function cellWords(c) {
    if (c === 'start') return 'start of the text';
    var m = /^wl=(\d+)(\+?) tag=([01])$/.exec(String(c));
    if (!m) return String(c);
    return 'word length ' + m[1] + (m[2] ? ' or more' : '') + ', ' + (m[3] === '1' ? 'inside a tag' : 'outside a tag');
  }
  function words(k) { return String(k).replace(/([a-z])([A-Z])/g, '$1 $2').replace(/_/g, ' ').toLowerCase(); }
  var PT_COLS = [
    { key: 'cell', head: 'prefix cell', f: function (v) { return escHtml(cellWords(v)); } },
    { key: 'chat', head: 'mean carrier \u0109', num: true, f: function (v) { return fmt(v, 3); } },
    { key: 'positions', head: 'positions', num: true, f: String },
    { key: 'ps', head: 'of them PS', num: true, f: String },
    { key: 'on', head: 'bytes that switch the unit on', f: function (v, r) { return '<code>' + escHtml(v) + '</code>' + (r.onCount !== undefined ? ' <span class="muted">(' + r.onCount + ')</span>' : ''); } },
  ];
  function patternTableHtml(pt, id) {
    var rows = pt && Array.isArray(pt.rows) ? pt.rows : null;
    if (!rows || !rows.length || typeof rows[0] !== 'object') return '<div id="' + id + '">' + tableHtml(pt) + '</div>';
    var known = PT_COLS.filter(function (c) { return rows[0][c.key] !== undefined; });
    var extra = Object.keys(rows[0]).filter(function (k) { return k !== 'onCount' && !PT_COLS.some(function (c) { return c.key === k; }); });
    var head = known.map(function (c) { return '<th>' + c.head + '</th>'; }).concat(extra.map(function (k) { return '<th>' + escHtml(words(k)) + '</th>'; })).join('');
    var body = rows.map(function (r) {
      return '<tr>' + known.map(function (c) { return '<td' + (c.num ? ' class="num"' : '') + '>' + c.f(r[c.key], r) + '</td>'; }).join('') +
        extra.map(function (k) { return '<td>' + escHtml(cellText(r[k])) + '</td>'; }).join('') + '</tr>';
    }).join('');
    var sum = [];
    if (typeof pt.psCount === 'number') sum.push('PS at ' + pt.psCount + ' positions');
    if (typeof pt.accuracy === 'number') sum.push('the table predicts the unit\u2019s sign at ' + (100 * pt.accuracy).toFixed(1) + '% of them');
    return (sum.length ? '<p>' + sum.join('; ') + '.</p>' : '') + '<table class="pt" id="' + id + '"><tr>' + head + '</tr>' + body + '</table>';
  }
  // Its top-activating contexts: the positions where its state is furthest from its mean
  // state (a saturated unit sits near \u00b11 almost everywhere; what stands out is where it
  // leaves that), and those with the largest pattern gain among the positions where it is
  // PS. Ties: the earlier position.
  var CTX_K = 8;
  function meanState(j) { var s = 0; for (var t = 0; t < T; t++) s += states[t * H + j]; return T ? s / T : 0; }
  function topContexts(j, by) {
    var idx = [], g = D.quantities.patternGain, m = meanState(j);
    for (var t = 0; t < T; t++) if (by === 'state' || isPS(t, j)) idx.push(t);
    idx.sort(by === 'state' ? function (a, b) { return Math.abs(states[b * H + j] - m) - Math.abs(states[a * H + j] - m) || a - b; } : function (a, b) { return g[b] - g[a] || a - b; });
    return idx.slice(0, CTX_K);
  }
  function contextHtml(t) {
    var s = '', from = Math.max(0, t - 24), to = Math.min(N - 1, t + 4);
    for (var i = from; i <= to; i++) s += i === t ? '<span class="cur">' + escHtml(ch(D.bytes[i])) + '</span>' : escHtml(ch(D.bytes[i]));
    return '<span class="ctx">' + s + '</span>';
  }
  function contextsHtml(j, id) {
    var g = D.quantities.patternGain;
    var rows = function (list, val) { return list.map(function (t) { return '<tr><td><a data-t="' + (O + t) + '">t = ' + (O + t) + '</a></td><td class="num">' + val(t) + '</td><td>' + contextHtml(t) + '</td></tr>'; }).join(''); };
    var byS = topContexts(j, 'state'), byG = topContexts(j, 'gain');
    return '<h2>Top contexts</h2><table class="ctxs" id="' + id + '">' +
      '<tr><th colspan="3">state S[t][h' + j + '] furthest from its mean (' + fmt(meanState(j) / 127, 2) + ')</th></tr>' + rows(byS, function (t) { return 'S ' + fmt(state(t, j), 2); }) +
      '<tr><th colspan="3">largest pattern gain where h' + j + ' is PS</th></tr>' + (byG.length ? rows(byG, function (t) { return fmt(g[t], 3) + ' bits'; }) : '<tr><td colspan="3" class="muted">never PS</td></tr>') +
      '</table>';
  }
  function unitCard(j, slot) {
    var p = slot === 0 ? 'unit' : 'unit2', u = D.units[j];
    var pt = patternTable(j);
    return '<div class="card" data-unit="' + j + '"><h2>Unit h' + j + '</h2><table class="kv">' +
      '<tr><td>Table 1 pair (state offsets)</td><td class="num" id="' + p + '-pair">' + (u.pair ? '(' + u.pair[0] + ', ' + u.pair[1] + ')' : '\u2014') + '</td></tr>' +
      '<tr><td>R\u00b2 of its pair</td><td class="num" id="' + p + '-r2">' + fmt(u.r2, 4) + '</td></tr>' +
      '<tr><td>positions where PS</td><td class="num"><span id="' + p + '-ps-count">' + u.psCount + '</span> of ' + T + '</td></tr>' +
      '<tr><td>S[t] at t = ' + (O + sel) + '</td><td class="num">' + fmt(state(sel, j), 2) + (sel < T && isPS(sel, j) ? ' (PS)' : '') + '</td></tr>' +
      (carriers ? '<tr><td>carrier c<sub>t</sub> = Wh\u00b7S[t\u22121] + bh at t = ' + (O + sel) + '</td><td class="num" id="' + p + '-carrier">' + fmt(carrierAt(sel, j), 3) + '</td></tr>' : '') + '</table>' +
      contextsHtml(j, slot === 0 ? 'contexts' : 'contexts-2') +
      (pt === undefined ? '<p class="muted">Pattern table: the \u00a76.2 pattern-tables stage has not run for this report.</p>' :
        pt === null ? '<p class="muted">No pattern table for h' + j + ' (the \u00a76.2 stage tabulates the most pattern-sensitive units only).</p>' :
        '<h2>Pattern table (\u00a76.2)</h2>' + patternTableHtml(pt, slot === 0 ? 'pattern-table' : 'pattern-table-2')) +
      '</div>';
  }
  function unitPanel() {
    var U = document.getElementById('unit-panel');
    if (unit === null && unit2 === null) { U.innerHTML = '<h2>Unit</h2><p class="muted">Pick a unit above (or click one in the position panel or the heat map) to colour the text by its state and see its top contexts; pick a second to compare them side by side.</p>'; return; }
    U.innerHTML = '<div class="cards">' + (unit !== null ? unitCard(unit, 0) : '') + (unit2 !== null ? unitCard(unit2, 1) : '') + '</div>';
  }

  // ---------------------------------------------------------------- heat map
  var hm = document.getElementById('heatmap'), hmWhat = document.getElementById('hm-what'), hmSort = document.getElementById('hm-sort');
  var rowH = Math.max(2, Math.min(12, Math.floor(360 / Math.max(1, H))));
  // What the heat map shows at (t, j): the state, the carrier, or 1/0 for PS.
  function shown(t, j) {
    var what = hmWhat.value;
    return what === 'carrier' ? carrierAt(t, j) : what === 'ps' ? (t < T && isPS(t, j) ? 1 : 0) : state(t, j);
  }
  function unitOrder() {
    var order = [], key = hmSort.value, score = [];
    for (var j = 0; j < H; j++) {
      order.push(j);
      var v = 0;
      if (key === 'ps') v = D.units[j].psCount;
      else if (key === 'mean') { for (var t = 0; t < N; t++) v += Math.abs(shown(t, j)); }
      else if (key === 'at') v = shown(sel, j);
      score.push(v);
    }
    if (key !== 'unit') order.sort(function (a, b) { return score[b] - score[a] || a - b; });
    return order;
  }
  var hmOrder = [];
  function drawHeatmap() {
    if (!hm.getContext || T === 0) return;
    hmOrder = unitOrder();
    hm.setAttribute('data-order', hmOrder.join(','));
    var W = N, Hh = H * rowH;
    hm.width = W; hm.height = Hh; hm.style.height = Math.min(480, Hh * Math.max(1, Math.floor(hm.clientWidth / W) || 1)) + 'px';
    var ctx = hm.getContext('2d'), img = ctx.createImageData(W, Hh), px = img.data, what = hmWhat.value;
    for (var r = 0; r < H; r++) {
      var j = hmOrder[r];
      for (var t = 0; t < W; t++) {
        var rgb;
        if (what === 'ps') rgb = t < T && isPS(t, j) ? [40, 40, 40] : [245, 245, 245];
        else { var c = divColour(what === 'carrier' ? carrierAt(t, j) / cRange : state(t, j)).match(/\d+/g); rgb = [+c[0], +c[1], +c[2]]; }
        for (var y = 0; y < rowH; y++) { var o = ((r * rowH + y) * W + t) * 4; px[o] = rgb[0]; px[o + 1] = rgb[1]; px[o + 2] = rgb[2]; px[o + 3] = 255; }
      }
    }
    ctx.putImageData(img, 0, 0);
    hm.setAttribute('data-what', what);
    document.getElementById('hm-legend').innerHTML = what === 'ps' ? '<span class="swatch" style="background:#282828"></span> PS <span class="swatch" style="background:#f5f5f5"></span> not PS' :
      what === 'carrier' ? fmt(-cRange, 2) + ' <span class="bar" style="background:linear-gradient(90deg,' + divColour(-1) + ',#fff,' + divColour(1) + ')"></span> ' + fmt(cRange, 2) + ' carrier c<sub>t</sub>[j] (beyond: the end colour; 99% of |c| lie within)' :
      '\u22121 <span class="bar" style="background:linear-gradient(90deg,' + divColour(-1) + ',#fff,' + divColour(1) + ')"></span> +1 state S[t][j]';
    ctx.fillStyle = 'rgba(0,0,0,0.9)'; ctx.fillRect(sel, 0, 1, Hh);
    [unit, unit2].forEach(function (u) { if (u === null) return; var r = hmOrder.indexOf(u); ctx.strokeStyle = '#000'; ctx.lineWidth = 1; ctx.strokeRect(0.5, r * rowH + 0.5, W - 1, rowH - 1); });
  }
  function hmAt(e) {
    var b = hm.getBoundingClientRect();
    var t = Math.floor((e.clientX - b.left) / b.width * N), r = Math.floor((e.clientY - b.top) / b.height * H);
    return { t: Math.max(0, Math.min(N - 1, t)), unit: hmOrder[Math.max(0, Math.min(H - 1, r))] };
  }
  hm.addEventListener('mousemove', function (e) {
    var a = hmAt(e);
    document.getElementById('hm-info').textContent = 'h' + a.unit + ' at t = ' + (O + a.t) + ' (' + named(D.bytes[a.t]) + '): S = ' + fmt(state(a.t, a.unit), 2) + (carriers ? ', carrier c = ' + fmt(carrierAt(a.t, a.unit), 3) : '') + (a.t < T && isPS(a.t, a.unit) ? ', PS' : '');
  });
  hm.addEventListener('click', function (e) { var a = hmAt(e); pickUnit(String(a.unit)); select(a.t); });
  hmWhat.addEventListener('change', drawHeatmap);
  hmSort.addEventListener('change', drawHeatmap);

  // ---------------------------------------------------------------- wiring
  function writeHash() {
    var h = '#t=' + (O + sel) + (unit !== null ? '&unit=' + unit : '') + (unit2 !== null ? '&unit2=' + unit2 : '');
    try { if (location.hash !== h) history.replaceState(null, '', h); } catch (e) { /* a page without history (some file viewers) */ }
  }
  function select(t) {
    if (T === 0) return;
    sel = Math.max(0, Math.min(T - 1, t));
    markStrip();
    positionPanel();
    unitPanel();
    drawHeatmap();
    writeHash();
    var c = cells[sel]; if (c && c.scrollIntoView) c.scrollIntoView({ block: 'nearest' });
  }
  function pickUnit(j) {
    unit = j === '' || j === null || j === undefined ? null : Number(j);
    uSel.value = unit === null ? '' : String(unit);
    if (unit !== null) qSel.value = 'unitState';
    colourStrip(); markStrip(); unitPanel(); drawHeatmap(); writeHash();
  }
  function pickUnit2(j) {
    unit2 = j === '' || j === null || j === undefined ? null : Number(j);
    uSel2.value = unit2 === null ? '' : String(unit2);
    unitPanel(); drawHeatmap(); writeHash();
  }
  // Deep links: #t=29&unit=8&unit2=5 (t in the text). A position past the end, one outside
  // the window this page embeds, or a unit that does not exist, is said in a notice and the
  // nearest valid one shown.
  function applyHash() {
    var h = location.hash.replace(/^#/, ''), o = {}, notes = [];
    h.split('&').forEach(function (kv) { var i = kv.indexOf('='); if (i > 0) o[decodeURIComponent(kv.slice(0, i))] = decodeURIComponent(kv.slice(i + 1)); });
    if (o.t !== undefined) {
      var want = Number(o.t);
      if (!/^\d+$/.test(o.t)) notes.push('"t=' + o.t + '" in the link is not a position; positions are t = ' + O + '..' + (O + T - 1) + '.');
      else if (want > TEXT_T - 1) { notes.push('The link asks for position t = ' + o.t + ', past the end of the text: it has ' + TEXT_N + ' bytes, so the last position with a prediction is t = ' + (TEXT_T - 1) + '. Showing t = ' + (O + T - 1) + (O + T - 1 < TEXT_T - 1 ? ', the last in this page\u2019s window' : '') + '.'); sel = T - 1; }
      else if (want < O || want > O + T - 1) {
        sel = want < O ? 0 : T - 1;
        notes.push('The link asks for position t = ' + o.t + ', outside the window this page holds (positions t = ' + O + '..' + (O + T - 1) + ' of the ' + TEXT_N + '-byte text). Showing t = ' + (O + sel) + '. To see it, build the viewer with --set viewer.offset=' + Math.max(0, want - 64) + '.');
      }
      else sel = want - O;
    }
    function unitOf(key) {
      if (o[key] === undefined) return undefined;
      var v = String(o[key]).replace(/^h/, '');
      if (!/^\d+$/.test(v) || Number(v) >= H) { notes.push('The link asks for unit ' + o[key] + ', but this model has units h0..h' + (H - 1) + '.'); return null; }
      return Number(v);
    }
    var u1 = unitOf('unit'), u2 = unitOf('unit2');
    if (u1 !== undefined) { unit = u1; uSel.value = u1 === null ? '' : String(u1); if (u1 !== null) qSel.value = 'unitState'; }
    if (u2 !== undefined) { unit2 = u2; uSel2.value = u2 === null ? '' : String(u2); }
    var box = document.getElementById('notice');
    box.textContent = notes.join(' ');
    box.hidden = notes.length === 0;
  }
  qSel.addEventListener('change', colourStrip);
  uSel.addEventListener('change', function () { pickUnit(uSel.value); });
  uSel2.addEventListener('change', function () { pickUnit2(uSel2.value); });
  function onPanelClick(e) {
    var a = e.target && e.target.closest ? e.target.closest('[data-unit],[data-t]') : null;
    if (!a || a.classList.contains('card')) return;
    if (a.getAttribute('data-t') !== null) select(Number(a.getAttribute('data-t')) - O);
    else pickUnit(a.getAttribute('data-unit'));
  }
  document.getElementById('pos-panel').addEventListener('click', onPanelClick);
  document.getElementById('unit-panel').addEventListener('click', onPanelClick);
  window.addEventListener('hashchange', function () { applyHash(); colourStrip(); select(sel); });
  document.addEventListener('keydown', function (e) {
    if (e.target && (e.target.tagName === 'SELECT' || e.target.tagName === 'INPUT')) return;
    if (e.key === 'ArrowLeft') { select(sel - 1); e.preventDefault(); }
    else if (e.key === 'ArrowRight') { select(sel + 1); e.preventDefault(); }
  });
  // which window of the text this page holds
  var win = document.getElementById('window');
  win.innerHTML = O === 0 && N === TEXT_N ? 'The whole text: ' + TEXT_N + ' bytes, positions t = 0..' + (TEXT_T - 1) + '.' :
    'A window of the text: bytes ' + O + '..' + (O + N - 1) + ' of ' + TEXT_N + ' (positions t = ' + O + '..' + (O + T - 1) + '). Another window: <code>--set viewer.offset=N --set viewer.length=L</code>.' +
    (D.requested.offset !== O ? ' (viewer.offset = ' + D.requested.offset + ' asked for a window past the end; it ends at the last byte instead.)' : '');
  applyHash();
  colourStrip();
  select(sel);
  document.body.setAttribute('data-ready', '1');
})();
`;

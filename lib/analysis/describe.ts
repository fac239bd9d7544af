// Paper §6.2, open question 4 (docs/definitions.md §6.3): descriptions of what the model
// computes, of increasing detail, from which `rebuild` writes every weight back with
// nothing else to read: whatever a rebuild needs from the data is written here, counted.
//
// A description is a JSON document { header, body }. The header says how to read it (the
// level, the shape, feature definitions, the constants of the fixed rebuild procedure);
// the body holds the numbers. Its size is reported three ways: free numbers (the numeric
// leaves of the body), the UTF-8 bytes of its canonical JSON (keys sorted), and bits =
// 8 × the gzip level 9 size of that JSON.
//
// Levels:
//   marginal      no recurrence: the counts of the target bytes (by = their logs).
//   rules_<set>   one per §6.1 feature set. Feature units compute the set's features
//                 (lib/analysis/rebuild.ts); every other unit, taken from the model's units
//                 by pattern-sensitive count and kept one to one with it, is described by
//                   carrier[k]  its mean carrier ĉ in cell k (rounded), and
//                   wxBin[i]    where Wx[j][v] of the i-th seen byte v falls among the
//                               thresholds −ĉ: bin b means θ_{b-1} ≤ Wx < θ_b with θ the
//                               sorted distinct −ĉ. This is the unit's pattern table
//                               (§6.2) over all the level's cells at once: byte v
//                               switches the unit on in cell k iff ĉ_k + Wx[j][v] ≥ 0;
//                 the cells' sizes (the weights of the carrier fit), the seen bytes, and
//                 the model's own readout (Wy on those units, by), rounded.
//   rules_<set>_fit  the same, with a readout fitted in describe on the rebuilt states
//                 (lib/analysis/rebuild.ts withFittedReadout), rounded.
//   full          every weight, each written with the fewest digits that give back the
//                 same float32.

import { gzip, gzipSync } from 'node:zlib';
import { V, type Weights } from '../rnn/weights.ts';
import { featuresOf, setId, type Cells, type FeatureSet, type PrefixFeatures } from './timing-carrier.ts';

import type { Description } from './description-check.ts';

export type { Description };

/** Numeric leaves of a JSON value. */
export function countNumbers(v: unknown): number {
  if (typeof v === 'number') return 1;
  let n = 0;
  if (Array.isArray(v)) for (let i = 0; i < v.length; i++) n += typeof v[i] === 'number' ? 1 : countNumbers(v[i]);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) n += countNumbers(x);
  return n;
}

/** True when no element of the array is an object or array (JSON.stringify writes it as it is, nothing to sort). */
function flatArray(x: unknown[]): boolean {
  for (let i = 0; i < x.length; i++) if (x[i] !== null && typeof x[i] === 'object') return false;
  return true;
}

/**
 * JSON with every object's keys sorted (recursively): one text per document. An array of
 * numbers and strings (the bulk of a description: a full level's 82,000 weights) is handed
 * to JSON.stringify as it is, since a copy of it would be written the same.
 */
export function canonicalJson(v: unknown): string {
  const sort = (x: unknown): unknown => {
    if (Array.isArray(x)) return flatArray(x) ? x : x.map(sort);
    if (x && typeof x === 'object') return Object.fromEntries(Object.keys(x).sort().map((k) => [k, sort((x as Record<string, unknown>)[k])]));
    return x;
  };
  return JSON.stringify(sort(v));
}

/** Naive twin of canonicalJson: every array copied, element by element. */
export function canonicalJsonNaive(v: unknown): string {
  const sort = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sort);
    if (x && typeof x === 'object') return Object.fromEntries(Object.keys(x).sort().map((k) => [k, sort((x as Record<string, unknown>)[k])]));
    return x;
  };
  return JSON.stringify(sort(v));
}

/** The compressor that sizes descriptions (and the reference rows' text), as the report names it. */
export const COMPRESSOR = 'gzip level 9 (node:zlib gzipSync)';

/** 8 × the gzip-9 size of some bytes: the description bits of docs/definitions.md §6.3. */
export function gzipBits(bytes: Uint8Array): number {
  return 8 * gzipSync(bytes, { level: 9 }).length;
}

/**
 * gzipBits on libuv's thread pool: the same zlib with the same settings on the same bytes,
 * so the same size. One output buffer larger than any deflate output of these bytes, so
 * that the whole compression is one task on the pool (with the default 16 KiB buffers,
 * each next buffer waits for this thread to be free).
 */
export function gzipBitsAsync(bytes: Uint8Array): Promise<number> {
  const chunkSize = Math.max(16384, bytes.length + (bytes.length >> 8) + 1024);
  return new Promise((resolve, reject) => gzip(bytes, { level: 9, chunkSize }, (err, out) => (err ? reject(err) : resolve(8 * out.length))));
}

export interface Size {
  bytes: number;
  numbers: number;
  bits: number;
  /** the canonical JSON */
  text: string;
  /** its UTF-8 bytes, as stored */
  utf8: Uint8Array;
}

/** Size of a description: its canonical JSON (the text stored and read back), UTF-8 bytes, free numbers, bits. */
export function sizeOf(d: Description): Size {
  const text = canonicalJson(d);
  const utf8 = new TextEncoder().encode(text);
  return { bytes: utf8.length, numbers: countNumbers(d.body), bits: gzipBits(utf8), text, utf8 };
}

/**
 * sizeOf with the compression on the thread pool: describe starts the full level's (about
 * a megabyte, some 0.4 s of gzip -9) before it fits the rule levels' readouts, which then
 * run beside it.
 */
export async function sizeOfAsync(d: Description): Promise<Size> {
  const text = canonicalJson(d);
  const utf8 = new TextEncoder().encode(text);
  return { bytes: utf8.length, numbers: countNumbers(d.body), bits: await gzipBitsAsync(utf8), text, utf8 };
}

/**
 * A short decimal that reads back as the same float32: the fewest significant digits p
 * (1..9; 9 always reads back) with fround(x.toPrecision(p)) = x. Reading back holds for
 * every p from the least on (a (p+1)-digit decimal nearest x is no farther than a p-digit
 * one), so the search may probe in any order: 7 first, then 6 or 8 (most float32 weights
 * need 7 or 8 digits: two probes, the last one's decimal kept), then halving what is left.
 */
export function f32(x: number): number {
  let lo = 1;
  let hi = 9;
  let val = NaN;
  let valP = 0;
  const probe = (p: number): boolean => {
    const y = Number(x.toPrecision(p));
    if (Math.fround(y) === x) {
      hi = p;
      val = y;
      valP = p;
      return true;
    }
    lo = p + 1;
    return false;
  };
  if (probe(7)) probe(6);
  else probe(8);
  while (lo < hi) probe((lo + hi) >> 1);
  return valP === lo ? val : Number(x.toPrecision(lo));
}

/** Naive twin of f32: p = 1, 2, … until the decimal reads back. */
export function f32Naive(x: number): number {
  let p = 1;
  while (p < 9 && Math.fround(Number(x.toPrecision(p))) !== x) p++;
  return Number(x.toPrecision(p));
}

const round = (x: number, digits: number) => {
  const y = Number(x.toFixed(digits));
  return y === 0 ? 0 : y; // no -0 in JSON
};

/** Count of each byte among the targets x_1..x_{N-1}. */
export function targetCounts(xs: Uint8Array): Float64Array {
  const n = new Float64Array(V);
  for (let t = 1; t < xs.length; t++) n[xs[t]]++;
  return n;
}

/** No recurrence; the counts of the bytes that occur as targets, from which by is written. */
export function describeMarginal(H: number, xs: Uint8Array): Description {
  const n = targetCounts(xs);
  const bytes = [...n.keys()].filter((o) => n[o] > 0);
  return {
    header: {
      level: 'marginal', H,
      rule: 'Wx, Wh, bh, Wy = 0; by[o] = ln(count_o / Σ count) for the listed target bytes, −1e4 for every other byte',
    },
    body: { bytes, counts: bytes.map((o) => n[o]) },
  };
}

export function describeFull(w: Weights): Description {
  const arr = (a: Float32Array) => Array.from(a, f32);
  return {
    header: { level: 'full', H: w.H, layout: 'row-major: Wx (H, 256), Wh (H, H), bh (H), Wy (256, H), by (256)' },
    body: { Wx: arr(w.Wx), Wh: arr(w.Wh), bh: arr(w.bh), Wy: arr(w.Wy), by: arr(w.by) },
  };
}

/** The feature tuple of a cell, by its first position: [] for the start cell. */
export function cellKey(f: PrefixFeatures, set: FeatureSet, t: number): number[] {
  if (t === 0) return [];
  const use = featuresOf(set);
  const k: number[] = [];
  if (use.wl) k.push(f.wl[t]);
  if (use.tag) k.push(f.tag[t]);
  if (use.x1) k.push(f.x1[t]);
  if (use.x2) k.push(f.x2[t]);
  return k;
}

/** The `classes` most frequent bytes (ties: lower byte) among x_0..x_{N-2}, which x1/x2 units hold. */
export function byteClassesOf(xs: Uint8Array, classes: number): number[] {
  const n = new Float64Array(V);
  for (let t = 0; t + 1 < xs.length; t++) n[xs[t]]++;
  return [...n.keys()].filter((v) => n[v] > 0).sort((a, b) => n[b] - n[a] || a - b).slice(0, classes);
}

/** Number of feature units a rule level uses. */
export function featureUnitCount(set: FeatureSet, wordLenCap: number, classes: number): number {
  const u = featuresOf(set);
  return (u.wl ? wordLenCap : 0) + (u.tag ? 1 : 0) + (u.x1 ? classes : 0) + (u.x2 ? classes : 0);
}

/**
 * Bins of the seen bytes among the thresholds −ĉ (ĉ = the unit's cell carriers, as
 * written): bin b = number of thresholds θ with θ ≤ Wx[j][v]. Returns the sorted distinct
 * thresholds too.
 */
export function wxBins(wx: ArrayLike<number>, carriers: readonly number[], seen: readonly number[]): { theta: number[]; bins: number[] } {
  const theta = [...new Set(carriers.map((c) => (c === 0 ? 0 : -c)))].sort((a, b) => a - b);
  const bins = seen.map((v) => {
    let b = 0;
    while (b < theta.length && theta[b] <= wx[v]) b++;
    return b;
  });
  return { theta, bins };
}

export interface RuleOpts {
  wordLenCap: number;
  classes: number;
  /** decimals of the cell carriers */
  digits: number;
  /** decimals of the readout copied from the model */
  readoutDigits: number;
  /** the constants of the fixed rebuild procedure (lib/analysis/rebuild.ts), written into the header */
  rebuild: { gain: number; margin: number; ridge: number };
}

/**
 * The readout a rule level carries: one row per seen byte (body.seen) over `columns`
 * (the described units, or all H units), its by, and one by for every byte never seen
 * (their Wy rows are 0).
 */
export interface Readout {
  Wy: number[][];
  by: number[];
  byOther: number;
}

/**
 * A readout (Wy (V, H), by (V)) as a description writes it: the rows of the seen bytes over
 * the columns `cols`, rounded to `digits` decimals, and byOther = the mean by of the other
 * bytes (their Wy rows are written back as 0).
 */
export function packReadout(Wy: ArrayLike<number>, by: ArrayLike<number>, H: number, seen: readonly number[], cols: readonly number[], digits: number): Readout {
  const isSeen = new Uint8Array(V);
  for (const v of seen) isSeen[v] = 1;
  let other = 0;
  let nOther = 0;
  for (let v = 0; v < V; v++) if (!isSeen[v]) (other += by[v]), nOther++;
  return {
    Wy: seen.map((v) => cols.map((j) => round(Wy[v * H + j], digits))),
    by: seen.map((v) => round(by[v], digits)),
    byOther: round(nOther ? other / nOther : 0, digits),
  };
}

/**
 * The rule level of a feature set: features, the reproduced units' cell carriers (from the
 * timing-carrier cell means ĉ (nCells, H)) and their Wx bins, the number of positions per
 * cell (the weights of the carrier fit), the seen bytes, and the model's own readout of the
 * described units, rounded. `order` lists the model's units, most important first; the
 * first H − (feature units) are described, one to one with the rebuilt units F..H-1.
 */
export function describeRules(
  w: Weights, xs: Uint8Array, f: PrefixFeatures, set: FeatureSet, cells: Cells, chat: Float64Array,
  order: readonly number[], seen: readonly number[], o: RuleOpts,
): Description {
  const { H, Wx, Wy, by } = w;
  const use = featuresOf(set);
  const classes = byteClassesOf(xs, o.classes);
  const F = featureUnitCount(set, o.wordLenCap, classes.length);
  const R = Math.max(0, H - F);
  const described = order.slice(0, R);
  const units = described.map((j) => {
    const carrier = Array.from(cells.first, (_, k) => round(chat[k * H + j], o.digits));
    return { unit: j, carrier, wxBin: wxBins(Wx.subarray(j * V, j * V + V), carrier, seen).bins };
  });
  const count = new Array(cells.nCells).fill(0);
  for (let t = 0; t + 1 < xs.length; t++) count[cells.ids[t]]++;
  const readout = packReadout(Wy, by, H, seen, described, o.readoutDigits);
  return {
    header: {
      level: `rules_${setId(set)}`,
      H,
      set,
      features: {
        ...(use.wl ? { wl: { cap: o.wordLenCap, whitespace: [9, 10, 32], units: 'thermometer: unit k is +1 when word_len >= k' } } : {}),
        ...(use.tag ? { tag: { open: 0x3c, close: 0x3e, units: 'one bistable unit, +1 inside a tag' } } : {}),
        ...(use.x1 ? { x1: { classes, units: 'one unit per class, +1 when the byte just read is that byte' } } : {}),
        ...(use.x2 ? { x2: { units: 'a copy of each x1 unit, one step later' } } : {}),
      },
      cellKey: 'per cell, the values of the set\'s features of the prefix x_0..x_{t-1} (wl, tag, x1, x2, as used; -1 before x_0); [] is t = 0',
      cellCount: 'per cell, its number of positions t = 0..N-2 (the weights of each unit\'s carrier fit)',
      seen: 'the bytes of the data, ascending',
      carrier: `per described unit, its mean carrier in each cell, rounded to ${o.digits} decimals`,
      wxBin: 'per described unit and seen byte, the number of its thresholds −carrier (distinct, ascending) at or below Wx[j][byte]',
      units: `the model's ${R} units with the most pattern-sensitive positions, most first (unit: its index in the model)`,
      rebuild: { ...o.rebuild, rule: 'feature units at gain a; each described unit\'s Wh row and bh: ridge least squares of its cell carriers on the ideal feature values, cells weighted by cellCount, start cell left out; Wx of a seen byte: the middle of its bin, margin beyond the outer thresholds; 0 for unseen bytes' },
      readout: { columns: 'described', source: 'model', rule: `per seen byte, the model's Wy row on the described units and its by, rounded to ${o.readoutDigits} decimals; byOther: the mean by of the other bytes; feature units read out 0` },
    },
    body: { cells: Array.from(cells.first, (t) => cellKey(f, set, t)), cellCount: count, seen: [...seen], units, readout },
  };
}

export { parseDescription, DescriptionError } from './description-check.ts';

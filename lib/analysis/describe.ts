// Paper §6.2, open question 4 (SPEC §6.3): descriptions of what the model computes, of
// increasing detail, from which `rebuild` writes every weight back using the data only.
//
// A description is a JSON document { header, body }. The header says how to read it (the
// level, the shape, feature definitions, choices a rebuild could make from the data
// alone); the body holds what was learned from the model. Its size is reported twice: the
// UTF-8 bytes of the whole document, and the free numbers = the numeric leaves of the body.
//
// Levels:
//   marginal      no recurrence, by = log byte frequencies of the data: 0 free numbers.
//   rules_<set>   one per SPEC §6.1 feature set. Feature units compute the set's features
//                 (lib/analysis/rebuild.ts); every other unit, taken from the model's units
//                 by pattern-sensitive count, is described by
//                   carrier[k]  its mean carrier ĉ in cell k (rounded), and
//                   wxBin[i]    where Wx[j][v] of the i-th seen byte v falls among the
//                               thresholds −ĉ: bin b means θ_{b-1} ≤ Wx < θ_b with θ the
//                               sorted distinct −ĉ. This is the unit's pattern table
//                               (SPEC §6.2) over all the level's cells at once: byte v
//                               switches the unit on in cell k iff ĉ_k + Wx[j][v] ≥ 0.
//   full          every weight, each written with the fewest digits that give back the
//                 same float32.

import { V, type Weights } from '../rnn/weights.ts';
import { featuresOf, setId, type Cells, type FeatureSet, type PrefixFeatures } from './timing-carrier.ts';

export interface Description {
  header: Record<string, any>;
  body: Record<string, any>;
}

/** Numeric leaves of a JSON value. */
export function countNumbers(v: unknown): number {
  if (typeof v === 'number') return 1;
  if (Array.isArray(v)) return v.reduce((s: number, x) => s + countNumbers(x), 0);
  if (v && typeof v === 'object') return Object.values(v).reduce((s: number, x) => s + countNumbers(x), 0);
  return 0;
}

export function sizeOf(d: Description): { bytes: number; numbers: number; text: string } {
  const text = JSON.stringify(d);
  return { bytes: new TextEncoder().encode(text).length, numbers: countNumbers(d.body), text };
}

/**
 * A short decimal that reads back as the same float32: the fewest significant digits p
 * (binary search over 1..9; 9 always reads back) with fround(x.toPrecision(p)) = x.
 */
export function f32(x: number): number {
  let lo = 1;
  let hi = 9;
  while (lo < hi) {
    const p = (lo + hi) >> 1;
    if (Math.fround(Number(x.toPrecision(p))) === x) hi = p;
    else lo = p + 1;
  }
  return Number(x.toPrecision(lo));
}

const round = (x: number, digits: number) => {
  const y = Number(x.toFixed(digits));
  return y === 0 ? 0 : y; // no -0 in JSON
};

export function describeMarginal(H: number): Description {
  return {
    header: {
      level: 'marginal', H,
      rule: 'Wx, Wh, bh, Wy = 0; by[o] = ln(n_o / (N-1)) with n_o the count of byte o among the targets x_1..x_{N-1}; by = -1e4 for bytes that are never a target',
    },
    body: {},
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
  digits: number;
}

/**
 * The rule level of a feature set: features, the reproduced units' cell carriers (from the
 * timing-carrier cell means ĉ (nCells, H)) and their Wx bins. `order` lists the model's
 * units, most important first; the first H − (feature units) are described.
 */
export function describeRules(
  w: Weights, xs: Uint8Array, f: PrefixFeatures, set: FeatureSet, cells: Cells, chat: Float64Array,
  order: readonly number[], seen: readonly number[], o: RuleOpts,
): Description {
  const { H, Wx } = w;
  const use = featuresOf(set);
  const classes = byteClassesOf(xs, o.classes);
  const F = featureUnitCount(set, o.wordLenCap, classes.length);
  const R = Math.max(0, H - F);
  const units = order.slice(0, R).map((j) => {
    const carrier = Array.from(cells.first, (_, k) => round(chat[k * H + j], o.digits));
    return { carrier, wxBin: wxBins(Wx.subarray(j * V, j * V + V), carrier, seen).bins };
  });
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
      cellKey: 'per cell, the values of the set\'s features of the prefix x_0..x_{t-1} (wl, tag, x1, x2, as used); [] is t = 0',
      carrier: `per described unit, its mean carrier in each cell, rounded to ${o.digits} decimals`,
      wxBin: 'per described unit and seen byte (ascending), the number of its thresholds −carrier (distinct, ascending) at or below Wx[j][byte]',
      units: `the model's ${R} units with the most pattern-sensitive positions, most first`,
    },
    body: { cells: Array.from(cells.first, (t) => cellKey(f, set, t)), units },
  };
}

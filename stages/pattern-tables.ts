// Paper §6.2, open question 2 (docs/definitions.md §6.2): what byte sets do the pattern-sensitive units
// detect? For the units with the most pattern-sensitive positions (eq. 5), a lookup table
// over the `wl+tag` cells of docs/definitions.md §6.1: the cell's mean carrier ĉ, its positions, how often
// the unit is PS there, and the bytes v seen in the data with ĉ + Wx[j][v] ≥ 0 (those
// that switch it on). Table accuracy of unit j: the fraction of positions where
// sign(ĉ_t[j] + Wx[j][x_t]) = sign S[t][j]; reported for every unit and as a mean.
// Kernels: lib/analysis/timing-carrier.ts. Reads the trace; no forward pass of its own.
import { defineStage } from '../lib/engine/types.ts';
import type { Params } from '../schemas/pattern-tables.params.ts';


export default defineStage<Params>({
  name: 'pattern-tables',
  description: 'Q2: carrier-conditioned lookup tables of the top pattern-sensitive units',
  section: '§6.2',
  inputs: ['model', 'data', 'trace'],
  async run({ params, inputs }) {
    const { traceInputs } = await import('../lib/analysis/trace-inputs.ts');
    const { byteChar } = await import('../lib/analysis/byte-char.ts');
    const { carrier, patternSensitive, psCounts } = await import('../lib/analysis/carrier.ts');
    const tc = await import('../lib/analysis/timing-carrier.ts');
    const { w, xs, tr, N, H } = traceInputs('pattern-tables', inputs);
    const c = carrier(w, tr.S, N);
    const ps = patternSensitive(w, c);
    if (N < 3) throw new Error(`stage pattern-tables: need at least 3 bytes, got ${N}`);
    const P = N - 1; // positions t = 0..N-2
    const f = tc.prefixFeatures(xs, params.wordLenCap);
    const cells = tc.cellsOf(f, 'wl+tag', P);
    const { chat } = tc.cellMeans(c, H, cells, P);
    const accuracy = tc.tableAccuracy(w, xs, tr.S, chat, cells.ids, P);
    const { perUnit } = psCounts(ps, H, 0, P - 1);
    const seen = tc.seenBytes(xs);
    const top = [...perUnit.keys()].sort((a, b) => perUnit[b] - perUnit[a] || a - b).slice(0, Math.min(params.topUnits, H));
    // Rows: the start cell, then tag 0 and tag 1 by word length.
    const order = [...cells.first.keys()].sort((a, b) => {
      const ta = cells.first[a], tb = cells.first[b];
      if (ta === 0 || tb === 0) return ta - tb;
      return f.tag[ta] - f.tag[tb] || f.wl[ta] - f.wl[tb];
    });
    const units = top.map((j) => {
      const rows = tc.patternTable(w, seen, chat, cells, ps, j, P);
      return {
        unit: j,
        psCount: perUnit[j],
        accuracy: accuracy[j],
        rows: order.map((k) => {
          const r = rows[k];
          return {
            cell: tc.cellLabel(f, 'wl+tag', r.first, byteChar),
            chat: r.chat,
            positions: r.positions,
            ps: r.ps,
            onCount: r.on.length,
            on: r.on.map(byteChar).join(''),
          };
        }),
      };
    });
    let sum = 0;
    for (const a of accuracy) sum += a;
    return {
      json: {
        H, N, wordLenCap: params.wordLenCap,
        positions: { first: 0, last: P - 1, count: P },
        cells: cells.nCells,
        seenBytes: seen.length,
        meanAccuracy: sum / H,
        accuracy: [...accuracy],
        psCountPerUnit: [...perUnit],
        units,
      },
    };
  },
});

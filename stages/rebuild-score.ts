// Paper §6.2, open question 4, the scores (docs/definitions.md §6.3): each RNN rebuild
// wrote from a description alone, run from S[-1] = 0 beside the trained model T. Per level
// on the training text (t = 0..N-2): bpc, X%, the gap to T, kl_train (mean KL(p_T ‖ p_R)
// in bits), sign_train where rebuilt units stand one to one for T's (R fed forward on its
// own states); heldout_bpc on the held-out text (the data stage's heldout bytes), and T's
// own. Reference rows, the data as its own description (bits = 8 × gzip-9 of the N training
// bytes): ref_construction (§4.1, optimized Wy) and ref_reverse_iso (§4.2, its states and
// readout; states 0 before its largest offset), and ref_kn (§6.5 at its best order,
// held-out bpc only). worth_bits: 1 when no reference has both no more bits and no higher
// bpc. Kernels: lib/analysis/rebuild-score.ts.
import { defineStage } from '../lib/engine/types.ts';
import type { Params } from '../schemas/rebuild-score.params.ts';

export default defineStage<Params>({
  name: 'rebuild-score',
  description: 'Q4: each rebuilt RNN scored beside the trained one (bpc, KL, signs, held-out) and against the data as its own description',
  section: '§6.2',
  inputs: ['rebuild', 'model', 'data', 'trace', 'construction', 'reverse-iso', 'kn'],
  async run({ params, inputs, progress }) {
    const { bytesOf, traceOf, weightsOf } = await import('../lib/rnn/io.ts');
    const { bitsOf, logpOf, mean } = await import('../lib/rnn/forward.ts');
    const { forwardTraceFast: forwardTrace } = await import('../lib/analysis/forward-fast.ts');
    const { weightsFrom } = await import('../lib/rnn/weights.ts');
    const { gzipBits } = await import('../lib/analysis/describe.ts');
    const sc = await import('../lib/analysis/rebuild-score.ts');
    const xs = bytesOf(inputs.data);
    const N = xs.length;
    const P = N - 1;
    const T = traceOf(inputs.trace);
    const wT = weightsOf(inputs.model);
    if (T.T !== N || T.H !== wT.H) throw new Error(`stage rebuild-score: trace (T=${T.T}, H=${T.H}) does not match data (N=${N}) and model (H=${wT.H})\nhint: re-run trace on the same model and data`);
    const logpT = logpOf(T, wT); // the trained model's rows, for the KL of each rebuilt model
    const heldout = (inputs.data.tensors.heldout?.data as Uint8Array | undefined) ?? null;
    // A rebuild whose every weight is the model's (the full level) has the model's trace:
    // the trace stage's states and log-probabilities, bits at this stage's floor.
    const isModel = (w: Parameters<typeof forwardTrace>[0]) => w.params.length === wT.params.length && w.params.every((v, i) => Object.is(v, wT.params[i]));
    const modelTrace = () => {
      const bits = new Float64Array(P);
      for (let t = 0; t < P; t++) bits[t] = bitsOf(logpT[t * 256 + xs[t + 1]], params.floor);
      return { S: T.S, logp: logpT, bits };
    };
    let trainedHeldout: number | null | undefined;
    const hbOf = (w: Parameters<typeof forwardTrace>[0]) => (heldout && heldout.length >= 2 ? mean(forwardTrace(w, heldout, params.floor).bits) : null);
    const hb = (w: Parameters<typeof forwardTrace>[0]) => (isModel(w) ? (trainedHeldout ??= hbOf(wT)) : hbOf(w));
    const trainedBpc = mean(T.bits);
    const xPct = (h: number) => ((8 - h) / (8 - trainedBpc)) * 100;
    const n = new Float64Array(256);
    for (let t = 1; t < N; t++) n[xs[t]]++;
    let unigram = 0;
    for (const c of n) if (c > 0) unigram -= (c / P) * Math.log2(c / P);

    // the references: models built by a fixed procedure from the training text alone
    const textBits = gzipBits(xs);
    const refs: any[] = [];
    const cons = inputs.construction;
    {
      const w = weightsFrom(cons.tensors.paramsOptimized.data as Float32Array, cons.json.H);
      const tr = forwardTrace(w, xs, params.floor);
      const bpc = mean(tr.bits);
      refs.push({ name: 'construction', what: '§4.1 shift register with the optimized Wy', bpc, klTrain: sc.klBits(logpT, tr.logp, 0, P), heldoutBpc: hb(w) });
    }
    const ri = inputs['reverse-iso'];
    {
      const spec = { offsets: ri.json.offsets, ...ri.json.spec };
      const Wy = ri.tensors.Wy.data as Float64Array;
      const by = ri.tensors.by.data as Float64Array;
      const H = ri.json.H as number;
      const logp = sc.readoutLogpAll(sc.reverseStatesOn(xs, xs, spec), N, H, Wy, by);
      const bpc = sc.meanBits(logp, xs, params.floor);
      const heldoutBpc = heldout && heldout.length >= 2 ? sc.meanBits(sc.readoutLogpAll(sc.reverseStatesOn(xs, heldout, spec), heldout.length, H, Wy, by), heldout, params.floor) : null;
      refs.push({ name: 'reverse_iso', what: '§4.2 skip-bigram log-ratio states and their trained readout', bpc, klTrain: sc.klBits(logpT, logp, 0, P), heldoutBpc });
    }
    // §6.5's counting model at its best order: held-out bpc only (in-sample it has counted the byte it predicts)
    // (none when the run has no held-out text: kn scored nothing)
    const kn = inputs.kn.json;
    if (kn.best) refs.push({ name: 'kn', what: `§6.5 Kneser–Ney, its best order ${kn.best.order} of 1..${kn.orders.length} (held-out only)`, bpc: null, klTrain: null, heldoutBpc: kn.best.heldout_bpc });
    const refRows = refs.map((r) => ({ ...r, bytes: N, numbers: N, bits: textBits, x: r.bpc === null ? null : xPct(r.bpc), gap: r.bpc === null ? null : r.bpc - trainedBpc }));

    const all = inputs.rebuild.json.levels as any[];
    const levels = all.map((l, i) => {
      progress(i, all.length, l.level);
      const w = weightsFrom(inputs.rebuild.tensors[`params_${l.level}`].data as Float32Array, inputs.rebuild.json.H);
      const tr = isModel(w) ? modelTrace() : forwardTrace(w, xs, params.floor);
      const bpc = mean(tr.bits);
      const signTrain = l.unitMap ? sc.signAgreement(tr.S, w.H, T.S, T.H, l.unitMap, P) : null;
      const row = { level: l.level, set: l.set, readout: l.readout, edited: l.edited, bytes: l.bytes, numbers: l.numbers, bits: l.bits, bpc, x: xPct(bpc), gap: bpc - trainedBpc, klTrain: sc.klBits(logpT, tr.logp, 0, P), signTrain, heldoutBpc: hb(w) };
      return { ...row, worthBits: sc.worthBits(row, refRows) };
    });
    return {
      json: {
        N, H: wT.H, floor: params.floor, compressor: inputs.rebuild.json.compressor,
        positions: { first: 0, last: N - 2, count: P },
        heldout: heldout && heldout.length >= 2 ? { bytes: heldout.length, positions: heldout.length - 1 } : null,
        trainedBpc, trainedHeldoutBpc: hb(wT), unigramEntropy: unigram, levels, refs: refRows,
      },
    };
  },
});

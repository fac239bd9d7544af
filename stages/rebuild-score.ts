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
import type { Weights } from '../lib/rnn/weights.ts';

export default defineStage<Params>({
  name: 'rebuild-score',
  description: 'Q4: each rebuilt RNN scored beside the trained one (bpc, KL, signs, held-out) and against the data as its own description',
  section: '§6.2',
  inputs: ['rebuild', 'model', 'data', 'trace', 'construction', 'reverse-iso', 'kn'],
  expectSeconds: 0.8,
  async run({ params, inputs, progress }) {
    const { bytesOf, traceOf, weightsOf } = await import('../lib/rnn/io.ts');
    const { mean } = await import('../lib/rnn/forward.ts');
    const { weightsFrom } = await import('../lib/rnn/weights.ts');
    const { gzipBits } = await import('../lib/analysis/describe.ts');
    const sc = await import('../lib/analysis/rebuild-score.ts');
    const { blockPositions, positionBlocks } = await import('../lib/analysis/position-blocks.ts');
    const xs = bytesOf(inputs.data);
    const N = xs.length;
    const P = N - 1;
    const T = traceOf(inputs.trace);
    const wT = weightsOf(inputs.model);
    if (T.T !== N || T.H !== wT.H) throw new Error(`stage rebuild-score: trace (T=${T.T}, H=${T.H}) does not match data (N=${N}) and model (H=${wT.H})\nhint: re-run trace on the same model and data`);
    const heldout = (inputs.data.tensors.heldout?.data as Uint8Array | undefined) ?? null;
    // Above maxPositions positions of a text, every model is scored on evenly spread blocks of
    // them (an RNN still runs forward over every position, from S[-1] = 0); the trained model's
    // bpc is then over the same positions.
    const trainPb = positionBlocks(0, N - 2, params.maxPositions, params.blockLength);
    const heldPb = heldout && heldout.length >= 2 ? positionBlocks(0, heldout.length - 2, params.maxPositions, params.blockLength) : null;
    const sampleOf = (pb: typeof trainPb) => ({ sampled: pb.sampled, count: pb.count, of: pb.of, blocks: pb.blocks.length, blockLength: pb.blocks[0][1] - pb.blocks[0][0] + 1, maxPositions: params.maxPositions });
    const score = (pb: typeof trainPb, sources: any[], text: Uint8Array, ref: { src: any; H: number } | null, maps: (number[] | null)[], Hs: number[]) =>
      pb.sampled ? sc.scoreOnBlocks(sources, text, params.floor, ref, maps, Hs, pb.blocks) : sc.scoreOnText(sources, text, params.floor, ref, maps, Hs);
    const rnnOn = (pb: typeof trainPb, w: Weights, text: Uint8Array) => (pb.sampled ? sc.rnnRowsCarried(w, text) : sc.rnnRows(w, text));
    // Every model is scored block by block beside the trained one's rows (lib/analysis/rebuild-score.ts
    // scoreOnText): no (N, 256) array is held. A rebuild whose every weight is the model's (the full
    // level) has the model's trace: the trace stage's states and log-probabilities.
    const isModel = (w: Weights) => w.params.length === wT.params.length && w.params.every((v, i) => Object.is(v, wT.params[i]));
    const ref = { src: sc.traceRows(T, wT), H: T.H };
    let trainedHeldout: number | null | undefined;
    const hbOf = (w: Weights) => (heldout && heldPb ? mean(score(heldPb, [rnnOn(heldPb, w, heldout)], heldout, null, [null], [w.H])[0].bits) : null);
    const hb = (w: Weights) => (isModel(w) ? (trainedHeldout ??= hbOf(wT)) : hbOf(w));
    const trainedBpc = trainPb.sampled ? mean(Float64Array.from(blockPositions(trainPb), (t) => T.bits[t])) : mean(T.bits);
    const xPct = (h: number) => ((8 - h) / (8 - trainedBpc)) * 100;
    const n = new Float64Array(256);
    for (let t = 1; t < N; t++) n[xs[t]]++;
    let unigram = 0;
    for (const c of n) if (c > 0) unigram -= (c / P) * Math.log2(c / P);

    // the models on the training text, in one pass over its blocks: the two references built
    // from the text alone, then each level
    const cons = inputs.construction;
    const wC = weightsFrom(cons.tensors.paramsOptimized.data as Float32Array, cons.json.H);
    const ri = inputs['reverse-iso'];
    const riSpec = { offsets: ri.json.offsets, ...ri.json.spec };
    const riWy = ri.tensors.Wy.data as Float64Array;
    const riBy = ri.tensors.by.data as Float64Array;
    const riH = ri.json.H as number;
    const all = inputs.rebuild.json.levels as any[];
    const ws = all.map((l) => weightsFrom(inputs.rebuild.tensors[`params_${l.level}`].data as Float32Array, inputs.rebuild.json.H));
    const same = ws.map(isModel);
    const sources = [rnnOn(trainPb, wC, xs), sc.reverseRows(xs, xs, riSpec, riH, riWy, riBy), ...ws.map((w, i) => (same[i] ? sc.traceRows(T, wT) : rnnOn(trainPb, w, xs)))];
    const maps = [null, null, ...all.map((l) => (l.unitMap as number[] | null) ?? null)];
    progress(0, all.length + 2, 'training text');
    const scored = score(trainPb, sources, xs, ref, maps, [wC.H, riH, ...ws.map((w) => w.H)]);
    // the full level's bits at this stage's floor from the trace's rows, its KL 0: as scoreOnText gives them

    // the references: models built by a fixed procedure from the training text alone
    const textBits = gzipBits(xs);
    const refs: any[] = [];
    refs.push({ name: 'construction', what: '§4.1 shift register with the optimized Wy', bpc: mean(scored[0].bits), klTrain: scored[0].kl, heldoutBpc: hb(wC) });
    {
      const bpc = mean(scored[1].bits);
      const heldoutBpc = heldout && heldPb ? mean(score(heldPb, [sc.reverseRows(xs, heldout, riSpec, riH, riWy, riBy)], heldout, null, [null], [riH])[0].bits) : null;
      refs.push({ name: 'reverse_iso', what: '§4.2 skip-bigram log-ratio states and their trained readout', bpc, klTrain: scored[1].kl, heldoutBpc });
    }
    // §6.5's counting model at its best order: held-out bpc only (in-sample it has counted the byte it predicts)
    // (none when the run has no held-out text: kn scored nothing)
    const kn = inputs.kn.json;
    if (kn.best) refs.push({ name: 'kn', what: `§6.5 Kneser–Ney, its best order ${kn.best.order} of 1..${kn.orders.length} (held-out only)`, bpc: null, klTrain: null, heldoutBpc: kn.best.heldout_bpc });
    const refRows = refs.map((r) => ({ ...r, bytes: N, numbers: N, bits: textBits, x: r.bpc === null ? null : xPct(r.bpc), gap: r.bpc === null ? null : r.bpc - trainedBpc }));

    const levels = all.map((l, i) => {
      progress(i + 2, all.length + 2, l.level);
      const w = ws[i];
      const r = scored[i + 2];
      const bpc = mean(r.bits);
      const row = { level: l.level, set: l.set, readout: l.readout, edited: l.edited, bytes: l.bytes, numbers: l.numbers, bits: l.bits, bpc, x: xPct(bpc), gap: bpc - trainedBpc, klTrain: r.kl, signTrain: l.unitMap ? r.sign : null, heldoutBpc: hb(w) };
      return { ...row, worthBits: sc.worthBits(row, refRows) };
    });
    return {
      json: {
        N, H: wT.H, floor: params.floor, compressor: inputs.rebuild.json.compressor,
        positions: { first: 0, last: N - 2, count: P },
        heldout: heldout && heldout.length >= 2 ? { bytes: heldout.length, positions: heldout.length - 1 } : null,
        scoreSample: sampleOf(trainPb),
        heldoutSample: heldPb ? sampleOf(heldPb) : null,
        trainedBpc, trainedHeldoutBpc: hb(wT), unigramEntropy: unigram, levels, refs: refRows,
      },
    };
  },
});

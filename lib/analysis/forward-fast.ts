// The forward pass for the analyses that run it many times (rebuild-score scores some thirty
// rebuilt models, describe fits a readout on each rule level's states, the report's §6.5
// section reads the model on the held-out text): forwardStates' and forwardTrace's results,
// bit for bit, with the states from the WebAssembly kernel (lib/rnn/wasm-dense.ts
// forwardStatesDense) when build/dense.wasm is there, and from forwardStates itself when
// it is not. The readout is forwardTrace's own (readoutLogpRows).

import { bitsOf, DEFAULT_FLOOR, forwardStates, readoutLogpRows, type Trace } from '../rnn/forward.ts';
import { forwardStatesDense } from '../rnn/wasm-dense.ts';
import { V, type Weights } from '../rnn/weights.ts';

/** z and S (T, H) float32 from S[-1] = h0 (default 0): forwardStates, bit for bit. */
export function forwardStatesFast(w: Weights, xs: Uint8Array, h0?: Float32Array): { z: Float32Array; S: Float32Array } {
  return forwardStatesDense(w, xs, h0) ?? forwardStates(w, xs, h0);
}

/** The full trace (states, log-probabilities, bits per prediction): forwardTrace, bit for bit. */
export function forwardTraceFast(w: Weights, xs: Uint8Array, floor = DEFAULT_FLOOR): Trace {
  const T = xs.length;
  const { z, S } = forwardStatesFast(w, xs);
  const logp = new Float64Array(T * V);
  readoutLogpRows(w, S, T, logp);
  const lpNext = new Float64Array(Math.max(0, T - 1));
  const bits = new Float64Array(lpNext.length);
  for (let t = 0; t + 1 < T; t++) {
    lpNext[t] = logp[t * V + xs[t + 1]];
    bits[t] = bitsOf(lpNext[t], floor);
  }
  return { T, H: w.H, z, S, logp, lpNext, bits };
}

// The second training thread of the WebAssembly kernel (asm/rnn.ts, driven by
// lib/rnn/wasm-kernel.ts). Plain JavaScript so that it starts without a TypeScript loader:
// it instantiates the compiled module on the shared memory it is given and joins the main
// thread's commands until told to stop. The loop is here, not in wasm, so that V8 swaps in
// the optimized code of workerNext/workerRun between calls.
import { workerData } from 'node:worker_threads';

const { module, memory, cb } = workerData;
const x = new WebAssembly.Instance(module, { env: { memory, abort: () => { throw new Error('wasm abort'); } } }).exports;
for (;;) {
  const kind = x.workerNext(cb);
  if (kind < 0) break;
  if (kind > 0) x.workerRun(cb, kind);
}

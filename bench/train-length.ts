// Measurement behind the Q3 training-length rule (docs/q3.md): train at N bytes for E epochs
// (the authors' recipe, sgd with its cosine lr, or with --adam the paper's text, adam at a
// constant 0.001; glibc init) and print the held-out curve on enwik9 bytes [960 KiB, 1 MiB),
// its convergence figure and the time per epoch. With --stop (adam) E is a cap and the run
// stops on the held-out curve as train.stopOnHeldout does (every: its interval by default).
//
//   node --import tsx bench/train-length.ts N:E[:every] [N:E[:every] ...] [--seed S] [--hidden H] [--adam] [--stop]
//
// The data come from TOTAL_INTERP_ENWIK9_1MIB (a copy of the first MiB of enwik9); without
// it the script says so and exits 0.
import { existsSync, readFileSync } from 'node:fs';
import { convergedOf, heldoutEveryStop, train } from '../lib/rnn/train.ts';

const HELDOUT_OFFSET = 983040;
const HELDOUT_BYTES = 65536;

const args = process.argv.slice(2);
const opt = (name: string, d: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args.splice(i, 2)[1]) : d;
};
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? (args.splice(i, 1), true) : false;
};
const adam = flag('--adam');
const stop = flag('--stop');
if (stop && !adam) {
  console.error('error: --stop needs --adam (sgd\'s cosine spans the planned epochs)\nhint: node --import tsx bench/train-length.ts 65536:200 --adam --stop');
  process.exit(2);
}
const seed = opt('--seed', 42);
const hidden = opt('--hidden', 128);
const file = process.env.TOTAL_INTERP_ENWIK9_1MIB;
if (!file || !existsSync(file)) {
  console.log('skipped: set TOTAL_INTERP_ENWIK9_1MIB to a copy of the first MiB of enwik9');
  process.exit(0);
}
const all = new Uint8Array(readFileSync(file));
const heldout = all.subarray(HELDOUT_OFFSET, HELDOUT_OFFSET + HELDOUT_BYTES);
for (const spec of args) {
  const [N, E, every] = spec.split(':').map(Number);
  const xs = all.subarray(0, N);
  const heldoutEvery = every || (stop ? heldoutEveryStop(null, N) : Math.max(1, Math.round(E / 16)));
  const r = train(xs, { hidden, epochs: E, optimizer: adam ? 'adam' : 'sgd', init: 'glibc', seed, bptt: 50, evalEvery: E, heldout, heldoutEvery, stopOnHeldout: stop }, { threads: 1 });
  const c = convergedOf(r.heldoutEpochs, r.heldoutBpc, r.epochs);
  const curve = r.heldoutEpochs.map((e, i) => `${e}:${r.heldoutBpc[i].toFixed(3)}`).join(' ');
  console.log(
    `N=${N} E=${r.epochs}${r.epochs < E ? ` (stopped; cap ${E})` : ''} predictions=${r.epochs * (N - 1)} ${adam ? 'adam' : 'sgd'} seed=${seed} H=${hidden}: train bpc ${r.curveTrainBpc[r.epochs - 1].toFixed(3)}, in-sample eval ${r.finalEvalBpc.toFixed(3)}, ` +
      `held-out best ${Math.min(...r.heldoutBpc).toFixed(3)} (checkpoint ${r.bestCheckpointHeldoutBpc!.toFixed(3)}), last-quarter improvement ${c.improvement!.toFixed(4)} -> ${c.converged ? 'converged' : 'NOT converged'}; ` +
      `${r.msPerEpoch.toFixed(0)} ms/epoch (${((r.msPerEpoch * 1000) / (N - 1)).toFixed(1)} µs/prediction), ${(r.msTotal / 1000).toFixed(1)} s total`,
  );
  console.log(`  held-out curve (epoch:bpc): ${curve}`);
}

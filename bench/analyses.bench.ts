// Benchmark: each analysis stage on the paper's weights, this tree against a base commit
// (default 226bf55, the tree before the dense WebAssembly kernels; TOTAL_INTERP_BENCH_BASE=REF
// picks another), in the same run, interleaved, each run in a fresh process (a stage's
// first run in a fresh process is what the pipeline pays). The base is checked out with
// `git archive` into a temp folder, with this tree's node_modules linked and its own
// build/ (`npm run build:wasm`), once. A stage's upstream outputs are computed in the same
// child by that tree's own stages, untimed (data, model and trace from the reference
// bytes and weights, the held-out text from the shipped 2048 bytes), so every analysis
// stage of §3–§6 is timed, the §6.2 ones too; a stage the base does not have prints "—"
// (at 226bf55 `rebuild` also scored, which `rebuild-score` does now). A stage's outputs are
// hashed: "same bits" says both trees gave the same outputs, and where they did not, the
// last repetition's numbers say how many differ and by how much at most. Then the cold `report` on the
// paper's weights from an empty cache, default --jobs, both trees, with the load average
// beside it (the report stage itself is timed only there: it needs the vega bundles).
// Target: the cold report in ≤ 6 s wall on two cores.
//   npx tsx bench/analyses.bench.ts [reps]

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STAGES = [
  'trace', 'skipgrams', 'construction', 'reverse-iso', 'baselines', 'influence', 'carrier-pattern',
  'decomposition', 'factor-map', 'timing-carrier', 'pattern-tables', 'isomorphism', 'boolean',
  'kn', 'describe', 'rebuild', 'rebuild-score',
];

/** The stage `name` of `tree`, or null when that tree has no such stage. */
async function stageOf(tree: string, name: string): Promise<any | null> {
  const file = path.join(tree, 'stages', `${name}.ts`);
  return fs.existsSync(file) ? (await import(pathToFileURL(file).href)).default : null;
}

/**
 * Child mode: run one stage of the tree at `tree` once, its upstream stages first (untimed);
 * print {ms, cpuMs, hash} as JSON, or {missing: true} when the tree has no such stage.
 */
async function child(tree: string, name: string): Promise<void> {
  const sb = await import(pathToFileURL(path.join(tree, 'bench/stage-bench.ts')).href);
  const inputs = sb.referenceInputs();
  // the held-out text the data stage gives by default: the 1024 bytes after the training prefix
  const shipped = path.join(tree, 'data', 'enwik9-head-2048.txt');
  if (fs.existsSync(shipped)) {
    const h = new Uint8Array(fs.readFileSync(shipped)).slice(1024, 2048);
    inputs.data.tensors.heldout = { dtype: 'uint8', shape: [h.length], data: h };
  }
  const def = await stageOf(tree, name);
  if (!def) {
    console.log(JSON.stringify({ missing: true }));
    return;
  }
  const need = async (d: any): Promise<void> => {
    for (const up of d.inputs as string[]) {
      if (inputs[up]) continue;
      const u = await stageOf(tree, up);
      if (!u) throw new Error(`${name} in ${tree}: no stage ${up}`);
      await need(u);
      const r = await sb.runStage(u, inputs);
      inputs[up] = sb.output(r.json, r.tensors ?? {}, up);
    }
  };
  await need(def);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const res = await sb.runStage(def, inputs);
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const h = createHash('sha256');
  h.update(JSON.stringify(res.json));
  for (const [k, t] of Object.entries(res.tensors ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const d = (t as { data: ArrayBufferView }).data;
    h.update(k);
    h.update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }
  // every number of the outputs (JSON leaves by path, then each tensor's elements), for the
  // parent to say by how much two trees' outputs differ when their bits do
  if (process.env.TI_BENCH_NUMBERS) {
    const nums: number[] = [];
    const paths: string[] = [];
    const walk = (v: unknown, at: string): void => {
      if (typeof v === 'number') (nums.push(v), paths.push(at));
      else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${at}[${i}]`));
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) walk(x, `${at}.${k}`);
    };
    walk(res.json, 'json');
    for (const [k, t] of Object.entries(res.tensors ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const d = (t as { data: ArrayLike<number> }).data;
      for (let i = 0; i < d.length; i++) (nums.push(Number(d[i])), paths.push(`${k}[${i}]`));
    }
    fs.writeFileSync(process.env.TI_BENCH_NUMBERS, JSON.stringify({ paths, nums }));
  }
  console.log(JSON.stringify({ ms, cpuMs: (c.user + c.system) / 1000, hash: h.digest('hex').slice(0, 16) }));
}

/**
 * How two trees' outputs of one stage differ: of the numbers at the paths both have, how many
 * differ and the largest relative difference |a − b| / max(|a|, |b|) among them (at which
 * path), and how many paths only one tree wrote (a field added or dropped).
 */
function numbersDiff(a: { paths: string[]; nums: number[] }, b: { paths: string[]; nums: number[] }): string {
  const bAt = new Map(b.paths.map((p, i) => [p, b.nums[i]]));
  let n = 0;
  let common = 0;
  let worst = 0;
  let at = '';
  a.paths.forEach((p, i) => {
    if (!bAt.has(p)) return;
    common++;
    const [x, y] = [a.nums[i], bAt.get(p)!];
    if (Object.is(x, y)) return;
    n++;
    const r = Number.isFinite(x) && Number.isFinite(y) ? Math.abs(x - y) / Math.max(Math.abs(x), Math.abs(y)) : Infinity;
    if (r >= worst) [worst, at] = [r, p];
  });
  const aSet = new Set(a.paths);
  const onlyA = a.paths.length - common;
  const onlyB = b.paths.filter((p) => !aSet.has(p)).length;
  const moved = onlyA || onlyB ? `; ${onlyA} numbers only before, ${onlyB} only after` : '';
  return n ? `${n} of ${common} shared numbers differ, at most ${worst.toExponential(1)} relative (${at})${moved}` : `the ${common} shared numbers are the same${moved}`;
}

/** The base commit's tree in a temp folder, with node_modules linked and its wasm built. */
function baseTree(ref: string): string {
  const sha = spawnSync('git', ['rev-parse', '--short', ref], { cwd: root, encoding: 'utf8' }).stdout.trim();
  if (!sha) throw new Error(`unknown commit ${ref}\nhint: TOTAL_INTERP_BENCH_BASE=<a commit of this repository>`);
  const dir = path.join(os.tmpdir(), `total-interp-bench-${sha}`);
  if (!fs.existsSync(path.join(dir, 'build', 'rnn.wasm'))) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const tar = spawnSync('sh', ['-c', `git archive ${sha} | tar -x -C "${dir}"`], { cwd: root, encoding: 'utf8' });
    if (tar.status !== 0) throw new Error(`git archive ${sha} failed: ${tar.stderr}`);
    fs.symlinkSync(fs.realpathSync(path.join(root, 'node_modules')), path.join(dir, 'node_modules'));
    const b = spawnSync('npm', ['run', 'build:wasm'], { cwd: dir, encoding: 'utf8' });
    if (b.status !== 0) throw new Error(`npm run build:wasm in ${dir} failed: ${b.stderr}`);
  }
  return dir;
}

function runChild(tree: string, stage: string, numbers?: string): { ms: number; cpuMs: number; hash: string; missing?: boolean } {
  const env = numbers ? { ...process.env, TI_BENCH_NUMBERS: numbers } : process.env;
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', tree, stage], { cwd: root, encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`${stage} in ${tree} failed (${r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

/** Wall ms, and CPU ms of the whole process tree (user + system, from /usr/bin/time when there is one, else NaN). */
function coldReport(tree: string, weights: string): { ms: number; cpuMs: number; load: string; seconds: Map<string, number> } {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-bench-cold-'));
  // the 1-minute load average includes this benchmark's own runs just before
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  const timeBin = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
  const cmd = ['npx', 'tsx', 'pipeline.ts', 'report', '--set', `model.source=${weights}`];
  const t0 = performance.now();
  const r = spawnSync(timeBin ?? cmd[0], timeBin ? ['-f', 'cpu %U %S', ...cmd] : cmd.slice(1), {
    cwd: tree, encoding: 'utf8', env: { ...process.env, TOTAL_INTERP_CACHE: cache },
  });
  const ms = performance.now() - t0;
  fs.rmSync(cache, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`cold report in ${tree} failed (${r.status}):\n${r.stderr}`);
  const m = /cpu ([\d.]+) ([\d.]+)/.exec(r.stderr);
  // each stage's own seconds as the engine printed them ("ran  NAME  1.23s")
  const seconds = new Map([...r.stderr.matchAll(/ran\s+(\S+)\s+([\d.]+)s/g)].map((x) => [x[1], Number(x[2])] as [string, number]));
  return { ms, cpuMs: m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN, load, seconds };
}

/**
 * What the stage times of one cold run allow on `lanes` cores: the serial sum, the longest
 * chain of the stage graph (its critical path), and a list schedule (a ready stage with the
 * longest chain below it first) on `lanes` lanes that each run one stage at a time and
 * cost nothing to start: the wall time of the stages themselves, without start-ups.
 */
async function scheduleOf(tree: string, seconds: Map<string, number>, lanes: number): Promise<{ sum: number; critical: number; makespan: number }> {
  const deps = new Map<string, string[]>();
  for (const name of seconds.keys()) {
    // inputs may depend on params (model: train only when it trains); the stages that ran are the ones that count
    const ins = (await stageOf(tree, name))?.inputs ?? [];
    deps.set(name, (typeof ins === 'function' ? ['train'] : ins).filter((u: string) => seconds.has(u)));
  }
  const below = new Map<string, number>(); // longest chain from a stage to the end, itself included
  const users = (n: string) => [...deps].filter(([, d]) => d.includes(n)).map(([u]) => u);
  const chain = (n: string): number => below.get(n) ?? (below.set(n, seconds.get(n)! + Math.max(0, ...users(n).map(chain))), below.get(n)!);
  const done = new Map<string, number>(); // finish time
  const free = new Array(lanes).fill(0);
  while (done.size < seconds.size) {
    const ready = [...seconds.keys()].filter((n) => !done.has(n) && deps.get(n)!.every((u) => done.has(u)));
    ready.sort((a, b) => chain(b) - chain(a));
    const n = ready[0];
    const lane = free.indexOf(Math.min(...free));
    const start = Math.max(free[lane], ...deps.get(n)!.map((u) => done.get(u)!));
    done.set(n, start + seconds.get(n)!);
    free[lane] = start + seconds.get(n)!;
  }
  const roots = [...seconds.keys()].filter((n) => deps.get(n)!.length === 0);
  return { sum: [...seconds.values()].reduce((a, b) => a + b, 0), critical: Math.max(...roots.map(chain)), makespan: Math.max(...done.values()) };
}

function row(name: string, m: { b: number; a: number; cb: number; ca: number }, note: string): void {
  const f = (x: number) => (Number.isNaN(x) ? '—' : x.toFixed(0)).padStart(7);
  const ratio = Number.isNaN(m.cb) ? '—' : (m.ca / m.cb).toFixed(2);
  console.log(`${name.padEnd(16)} ${f(m.b)} / ${f(m.a)}          ${f(m.cb)} / ${f(m.ca)}   ${ratio.padStart(14)}  ${note}`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const { paperWeightsFile } = await import('./stage-bench.ts');
  const weights = paperWeightsFile();
  const reps = Number(process.argv[2] ?? 3);
  const ref = process.env.TOTAL_INTERP_BENCH_BASE ?? '226bf55';
  const base = baseTree(ref);
  console.log(`load average at the start ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} on ${os.cpus().length} cores`);
  console.log(`stage              wall ms before / after     CPU ms before / after   CPU after/before  outputs   (medians of ${reps}, interleaved; base ${ref})`);
  const sum = { b: 0, a: 0, cb: 0, ca: 0 };
  const per = new Map<string, { b: number; a: number; cb: number; ca: number }>();
  const six = ['describe', 'rebuild', 'rebuild-score'];
  for (const stage of STAGES) {
    const b: number[] = [];
    const a: number[] = [];
    const cb: number[] = [];
    const ca: number[] = [];
    let hb = '';
    let ha = '';
    const numbers = [path.join(os.tmpdir(), `ti-bench-${process.pid}-before.json`), path.join(os.tmpdir(), `ti-bench-${process.pid}-after.json`)];
    for (let i = 0; i < reps; i++) {
      // the last repetition also writes every number of its outputs (not timed differently:
      // after the stage returned)
      const last = i === reps - 1;
      const rb = runChild(base, stage, last ? numbers[0] : undefined);
      const ra = runChild(root, stage, last ? numbers[1] : undefined);
      if (rb.missing) Object.assign(rb, { ms: NaN, cpuMs: NaN, hash: '' });
      b.push(rb.ms);
      a.push(ra.ms);
      cb.push(rb.cpuMs);
      ca.push(ra.cpuMs);
      hb = rb.hash;
      ha = ra.hash;
    }
    const missing = Number.isNaN(b[0]);
    const m = { b: median(b), a: median(a), cb: median(cb), ca: median(ca) };
    per.set(stage, m);
    if (!missing) for (const k of ['b', 'a', 'cb', 'ca'] as const) sum[k] += m[k];
    let note = missing ? `after only (not a stage at ${ref})` : hb === ha ? 'same bits' : six.includes(stage) ? 'differ (its work changed, see below)' : '';
    if (!note) {
      const [nb, na] = numbers.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
      note = `not the same bits: ${numbersDiff(nb, na)}`;
    }
    for (const f of numbers) fs.rmSync(f, { force: true });
    row(stage, m, note);
  }
  row('all', sum, 'the stages both trees have');
  // the §6.2 work moved between stages: at the base, describe wrote the descriptions and
  // rebuild fitted readouts and scored; now describe fits, rebuild writes and rebuild-score scores
  const q = six.map((s) => per.get(s));
  if (q.every((m) => m)) {
    const add = (k: 'b' | 'a' | 'cb' | 'ca') => q.reduce((t, m) => t + (Number.isNaN(m![k]) ? 0 : m![k]), 0);
    row('§6.2 together', { b: add('b'), a: add('a'), cb: add('cb'), ca: add('ca') }, six.join(' + '));
  }
  const before: ReturnType<typeof coldReport>[] = [];
  const after: ReturnType<typeof coldReport>[] = [];
  for (let i = 0; i < reps; i++) {
    before.push(coldReport(base, weights));
    after.push(coldReport(root, weights));
  }
  const best = (rs: ReturnType<typeof coldReport>[]) => rs.reduce((x, y) => (y.ms < x.ms ? y : x));
  const [bb, ba] = [best(before), best(after)];
  console.log(`cold report, default --jobs, best of ${reps} by wall time:`);
  console.log(`  before ${(bb.ms / 1000).toFixed(1)} s wall, ${(bb.cpuMs / 1000).toFixed(1)} s CPU (load average ${bb.load})`);
  console.log(`  after  ${(ba.ms / 1000).toFixed(1)} s wall, ${(ba.cpuMs / 1000).toFixed(1)} s CPU (load average ${ba.load}); target ≤ 6 s wall: ${ba.ms <= 6000 ? 'met' : 'NOT met'}`);
  // What the stage times of the best cold run would allow: one after another, the critical
  // path, and two lanes that cost nothing to start (the engine's own schedule pays start-ups
  // and runs short stages in its own process):
  for (const [label, run, tree] of [['before', bb, base], ['after ', ba, root]] as const) {
    const s = await scheduleOf(tree, run.seconds, 2);
    console.log(`  ${label} its stages: ${s.sum.toFixed(1)} s one after another; critical path ${s.critical.toFixed(1)} s; on two lanes ${s.makespan.toFixed(1)} s (without start-ups)`);
  }
}

if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4]);
else await main();

// Benchmark: what the engine costs on a no-op run (everything cached).
//   1. bare start-up: `npx tsx empty.ts` and `node --import tsx empty.ts`
//   2. the real pipeline on the paper's weights: no-op `report` and `status`
//   3. a synthetic 20-stage DAG: no-op `run`
//   4. the no-op `report` against another commit (default: the merge base with main, or on
//      main 226bf55, the tree before the last redesign; TOTAL_INTERP_BENCH_BASE=REF
//      picks another, =none skips), checked out with `git archive` into a temp folder and
//      timed in the same run, interleaved with this tree's (no slower than before)
// Target: the engine adds at most 50 ms over bare tsx start-up (each started the same way).
//   npx tsx bench/engine.bench.ts [reps]

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { paperWeightsFile } from './stage-bench.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function time(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }, reps: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const r = spawnSync(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, encoding: 'utf8' });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
    out.push(ms);
  }
  return out;
}

function syntheticDag(n: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-bench-dag-'));
  fs.mkdirSync(path.join(dir, 'stages'));
  fs.mkdirSync(path.join(dir, 'schemas'));
  fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
  const files: string[] = [];
  for (let i = 0; i < n; i++) {
    // each stage reads the previous one and the one before that (a ladder, not a chain)
    const inputs = [i - 1, i - 2].filter((j) => j >= 0).map((j) => `'s${j}'`);
    fs.writeFileSync(
      path.join(dir, 'stages', `s${i}.ts`),
      `export default { name: 's${i}', description: 'synthetic', inputs: [${inputs.join(', ')}],
  run({ params, inputs }) { let v = params.k; for (const x of Object.values(inputs)) v += x.json.v;
    const t = new Float64Array(1000).fill(v); return { json: { v }, tensors: { t: { dtype: 'float64', shape: [1000], data: t } } }; } };\n`,
    );
    fs.writeFileSync(path.join(dir, 'schemas', `s${i}.params.json`), JSON.stringify({ type: 'object', properties: { k: { type: 'number', default: i } }, additionalProperties: false }));
    files.push(`stages/s${i}.ts`);
  }
  fs.writeFileSync(
    path.join(dir, 'pipeline.ts'),
    `import { main } from ${JSON.stringify(path.join(root, 'lib/cli/main.ts'))};
process.exitCode = await main({ root: ${JSON.stringify(dir)}, stageFiles: ${JSON.stringify(files)}, argv: process.argv.slice(2) });\n`,
  );
  return dir;
}

export function benchEngine(reps = 7): void {
  const tsxBin = path.join(root, 'node_modules/.bin/tsx');
  const empty = path.join(os.tmpdir(), 'ti-empty.ts');
  fs.writeFileSync(empty, 'export {};\n');
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-bench-cache-'));
  // The shipped data and the paper's weights by name (found locally; see paperWeightsFile).
  const env: NodeJS.ProcessEnv = { ...process.env, TOTAL_INTERP_CACHE: cache, TOTAL_INTERP_PAPER_WEIGHTS: paperWeightsFile() };
  delete env.ENWIK9;
  const model = 'model.source=paper';

  console.log('engine: building the reference report once (not timed)…');
  time(tsxBin, ['pipeline.ts', 'report', '--set', model], { cwd: root, env }, 1);

  const bareNpx = time('npx', ['tsx', empty], { cwd: root }, reps);
  const bareTsx = time(tsxBin, [empty], { cwd: root }, reps);
  const report = time('npx', ['tsx', 'pipeline.ts', 'report', '--set', model], { cwd: root, env }, reps);
  const reportTsx = time(tsxBin, ['pipeline.ts', 'report', '--set', model], { cwd: root, env }, reps);
  // The same with the no-op memo removed before each run (lib/cli/noop.ts): the full CLI and engine.
  const reportFull: number[] = [];
  for (let i = 0; i < reps; i++) {
    fs.rmSync(path.join(cache, 'noop'), { recursive: true, force: true });
    reportFull.push(...time(tsxBin, ['pipeline.ts', 'report', '--set', model], { cwd: root, env }, 1));
  }
  const status = time('npx', ['tsx', 'pipeline.ts', 'status', '--set', model], { cwd: root, env }, reps);

  const dag = syntheticDag(20);
  time(tsxBin, [path.join(dag, 'pipeline.ts'), 'run', 's19'], { cwd: dag }, 1);
  const dagNoop = time('npx', ['tsx', path.join(dag, 'pipeline.ts'), 'run', 's19'], { cwd: root }, reps);

  // Each row is compared with the empty script started the same way (npx, or the tsx binary).
  const b = median(bareNpx);
  const bt = median(bareTsx);
  const rows: [string, number, number][] = [
    ['npx tsx empty.ts (baseline)', b, b],
    ['node_modules/.bin/tsx empty.ts (baseline)', bt, bt],
    ['npx tsx pipeline.ts report (no-op, paper weights)', median(report), b],
    ['node_modules/.bin/tsx pipeline.ts report (no-op)', median(reportTsx), bt],
    ['node_modules/.bin/tsx pipeline.ts report (no-op, memo removed: full CLI)', median(reportFull), bt],
    ['npx tsx pipeline.ts status', median(status), b],
    ['npx tsx synthetic 20-stage DAG run (no-op)', median(dagNoop), b],
  ];
  console.log(`\nengine no-op cost, median of ${reps} runs:`);
  console.log('| command | median ms | × its baseline | engine ms over its baseline |');
  console.log('|---|---|---|---|');
  for (const [name, ms, base] of rows) console.log(`| ${name} | ${ms.toFixed(0)} | ${(ms / base).toFixed(2)} | ${(ms - base).toFixed(0)} |`);
  // npx itself costs a second or more and varies with load: the tsx binary's rows are the measure.
  const over = median(reportTsx) - bt;
  console.log(`\nno-op report adds ${over.toFixed(0)} ms over bare tsx (target ≤ 50 ms): ${over <= 50 ? 'met' : 'NOT met'}`);
  fs.rmSync(cache, { recursive: true, force: true });
  fs.rmSync(dag, { recursive: true, force: true });
  // An older tree may not know model.source=paper or the shipped data: name both as files.
  compareWithBase(reps, `model.source=${paperWeightsFile()}`);
}

/** A commit's tree in a temp folder (node_modules and the wasm build shared by symlink), or null. */
function checkoutOf(ref: string): string | null {
  const rev = spawnSync('git', ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { cwd: root, encoding: 'utf8' });
  if (rev.status !== 0) return null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-bench-base-'));
  const tar = spawnSync('git', ['archive', '--format=tar', rev.stdout.trim()], { cwd: root, maxBuffer: 1 << 30 });
  if (tar.status !== 0) return null;
  spawnSync('tar', ['-x', '-C', dir], { input: tar.stdout });
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  if (fs.existsSync(path.join(root, 'build')) && !fs.existsSync(path.join(dir, 'build'))) fs.symlinkSync(path.join(root, 'build'), path.join(dir, 'build'));
  return dir;
}

/** On main, the tree before the engine's last redesign (the "before" of the no-op comparison). */
const MAIN_BASE = '226bf55';

export function compareWithBase(reps: number, model: string): void {
  // Default: where this branch left main (the tree "before"); main itself once merged.
  // On main itself, the merge base is HEAD: compare with the tree before the last redesign.
  const mb = spawnSync('git', ['merge-base', 'HEAD', 'main'], { cwd: root, encoding: 'utf8' });
  const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' });
  const onMain = mb.status === 0 && mb.stdout.trim() === head.stdout.trim();
  const ref = process.env.TOTAL_INTERP_BENCH_BASE ?? (mb.status !== 0 ? 'main' : onMain ? MAIN_BASE : mb.stdout.trim().slice(0, 12));
  if (ref === 'none') return;
  const base = checkoutOf(ref);
  if (!base) {
    console.log(`\n(no commit "${ref}" to compare the no-op report with; set TOTAL_INTERP_BENCH_BASE=REF)`);
    return;
  }
  const env = (cache: string) => ({ ...process.env, TOTAL_INTERP_CACHE: cache, ENWIK9: path.join(root, 'data/enwik9-head-2048.txt') });
  // Wall time swings with the machine's load; the process's own CPU time (user + system,
  // all threads, printed by a preload at exit) is the steadier comparison.
  const cpuPreload = `data:text/javascript,process.on('exit',()=>{const c=process.cpuUsage();process.stderr.write('\\ncpu-ms '+(c.user+c.system)/1000+'\\n')})`;
  const tsxLoader = path.join(root, 'node_modules/tsx/dist/loader.mjs');
  const run = (t: { dir: string; cache: string; wall: number[]; cpu: number[]; noMemo?: boolean }) => {
    if (t.noMemo) fs.rmSync(path.join(t.cache, 'noop'), { recursive: true, force: true });
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['--import', cpuPreload, '--import', pathToFileURL(tsxLoader).href, 'pipeline.ts', 'report', '--set', model], { cwd: t.dir, env: env(t.cache), encoding: 'utf8' });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`no-op report failed in ${t.dir} (${r.status}):\n${r.stderr}`);
    t.wall.push(ms);
    t.cpu.push(Number(/cpu-ms ([\d.]+)/.exec(r.stderr)?.[1] ?? NaN));
  };
  const trees = [
    { name: 'this tree', dir: root, cache: fs.mkdtempSync(path.join(os.tmpdir(), 'ti-bench-cache-')), wall: [] as number[], cpu: [] as number[] },
    { name: ref, dir: base, cache: fs.mkdtempSync(path.join(os.tmpdir(), 'ti-bench-cache-')), wall: [] as number[], cpu: [] as number[] },
    // This tree again with its no-op memo removed before each run (the full CLI; a tree without the memo is unaffected).
    { name: 'this tree, memo removed', dir: root, cache: fs.mkdtempSync(path.join(os.tmpdir(), 'ti-bench-cache-')), wall: [] as number[], cpu: [] as number[], noMemo: true },
  ];
  console.log(`\nno-op report, this tree vs ${ref} (interleaved, ${reps} runs each; building each once first)…`);
  for (const t of trees) {
    run(t);
    t.wall.length = 0;
    t.cpu.length = 0;
  }
  // Bare tsx on an empty script, started the same way and interleaved with the trees, for the overhead.
  const bare = { name: 'bare tsx (empty script)', dir: root, cache: trees[0].cache, wall: [] as number[], cpu: [] as number[] };
  const runBare = () => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['--import', cpuPreload, '--import', pathToFileURL(tsxLoader).href, path.join(os.tmpdir(), 'ti-empty.ts')], { cwd: root, encoding: 'utf8' });
    bare.wall.push(performance.now() - t0);
    bare.cpu.push(Number(/cpu-ms ([\d.]+)/.exec(r.stderr)?.[1] ?? NaN));
  };
  for (let i = 0; i < reps; i++) {
    if (i % 2) runBare();
    for (const t of i % 2 ? [...trees].reverse() : trees) run(t);
    if (!(i % 2)) runBare();
  }
  console.log('| tree | wall median ms | CPU median ms (user + sys) |');
  console.log('|---|---|---|');
  for (const t of [...trees, bare]) console.log(`| ${t.name} | ${median(t.wall).toFixed(0)} | ${median(t.cpu).toFixed(0)} |`);
  for (const t of trees) console.log(`${t.name}: CPU ${(median(t.cpu) - median(bare.cpu)).toFixed(0)} ms over bare tsx`);
  const [a, b] = trees.map((t) => median(t.cpu));
  const wall = median(trees[0].wall) / median(trees[1].wall);
  console.log(`CPU this tree / ${ref}: ${(a / b).toFixed(3)}; wall: ${wall.toFixed(3)} (${a <= b && wall <= 1 ? 'no slower' : 'SLOWER'})`);
  for (const t of trees) fs.rmSync(t.cache, { recursive: true, force: true });
  fs.rmSync(base, { recursive: true, force: true });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  benchEngine(Number(process.argv[2] ?? 7));
}

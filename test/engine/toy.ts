// A toy project in a temporary directory: a few tiny stages, their schemas, a lib file
// and a pipeline.ts that runs the real engine. Used by the engine's behaviour tests.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Pipeline } from '../../lib/engine/pipeline.ts';

const cliDir = fileURLToPath(new URL('../../lib/cli/', import.meta.url));
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

const schema = (props: Record<string, unknown> = {}) =>
  JSON.stringify({ type: 'object', properties: props, additionalProperties: false });

/** Stage a: n values; b: their sum (through lib/util.ts); c: b + 1; d: reads a only; slow: spins. */
export const TOY_FILES: Record<string, string> = {
  'package.json': JSON.stringify({ type: 'module' }),
  'lib/util.ts': `export function double(x: number) { return 2 * x; }\n`,
  'stages/a.ts': `export default { name: 'a', description: 'n values', inputs: [], tensors: ['v'],
  run({ params }) { const v = new Float64Array(params.n); for (let i = 0; i < v.length; i++) v[i] = i + params.offset;
    return { json: { n: params.n, bucket: Math.floor(params.n / 10) }, tensors: { v: { dtype: 'float64', shape: [v.length], data: v } } }; } };\n`,
  'stages/b.ts': `import { double } from '../lib/util.ts';
export default { name: 'b', description: 'sum', inputs: ['a'],
  run({ inputs }) { let s = 0; for (const x of inputs.a.tensors.v.data) s += x; return { json: { sum: double(s) / 2 } }; } };\n`,
  'stages/c.ts': `export default { name: 'c', description: 'b + 1', inputs: ['b'],
  run({ inputs }) { return { json: { out: inputs.b.json.sum + 1 }, artifacts: { 'toy/out.txt': 'out=' + (inputs.b.json.sum + 1) + '\\n' } }; } };\n`,
  'stages/d.ts': `export default { name: 'd', description: 'bucket of a', inputs: ['a'],
  run({ inputs }) { return { json: { bucket: inputs.a.json.bucket } }; } };\n`,
  'stages/slow.ts': `export default { name: 'slow', description: 'spins', inputs: ['b'],
  run({ params, inputs, progress }) { const end = performance.now() + params.ms; let k = 0;
    while (performance.now() < end) { k++; if (k % 100000 === 0) progress(Math.min(params.ms, params.ms - (end - performance.now())), params.ms); }
    return { json: { out: inputs.b.json.sum * 10 } }; } };\n`,
  'stages/e.ts': `export default { name: 'e', description: 'names the non-default params', inputs: ['a'], overrides: true,
  run({ overrides }) { return { json: { overrides } }; } };\n`,
  'schemas/e.params.json': schema({ tag: { type: 'string', default: 'x' } }),
  'schemas/a.params.json': schema({ n: { type: 'integer', minimum: 1, default: 4 }, offset: { type: 'number', default: 0 } }),
  'schemas/a.output.json': JSON.stringify({ type: 'object', required: ['n', 'bucket'], properties: { n: { type: 'integer' }, bucket: { type: 'integer' } } }),
  'schemas/b.params.json': schema(),
  'schemas/b.output.json': JSON.stringify({ type: 'object', required: ['sum'], properties: { sum: { type: 'number' } } }),
  'schemas/c.params.json': schema(),
  'schemas/d.params.json': schema(),
  'schemas/slow.params.json': schema({ ms: { type: 'integer', default: 1500 } }),
};

export const TOY_STAGES = ['stages/a.ts', 'stages/b.ts', 'stages/c.ts', 'stages/d.ts', 'stages/slow.ts', 'stages/e.ts'];

export function makeToy(files: Record<string, string> = TOY_FILES): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'total-interp-toy-'));
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  fs.writeFileSync(
    path.join(dir, 'pipeline.ts'),
    `import { main, quietOnEpipe } from ${JSON.stringify(path.join(cliDir, 'main.ts'))};
quietOnEpipe();
process.exitCode = await main({ root: ${JSON.stringify(dir)}, stageFiles: ${JSON.stringify(TOY_STAGES)}, argv: process.argv.slice(2) });\n`,
  );
  return dir;
}

export interface Lines {
  lines: string[];
}

/** Load the toy pipeline in-process, collecting reporter lines. */
export async function loadToy(dir: string, stageFiles = TOY_STAGES): Promise<Pipeline & Lines> {
  const p = (await Pipeline.load({ root: dir, stageFiles, env: {} })) as Pipeline & Lines;
  p.lines = [];
  p.reporter = {
    line: (t: string) => p.lines.push(t),
    stage: () => Object.assign(() => {}, { done() {} }),
  };
  return p;
}

/** Statuses of a build as { name: 'ran' | 'cached' }. */
export function statuses(runs: { name: string; status: string }[]): Record<string, string> {
  return Object.fromEntries(runs.map((r) => [r.name, r.status]));
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run the toy CLI in a child process. */
export function cli(dir: string, args: string[], opts: { onStderr?: (chunk: string, kill: () => void) => void } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', tsxLoader, path.join(dir, 'pipeline.ts'), ...args], {
      cwd: dir,
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'TOTAL_INTERP_CACHE')),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      opts.onStderr?.(String(d), () => child.kill('SIGKILL'));
    });
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

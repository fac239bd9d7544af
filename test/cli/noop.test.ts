// The no-op shortcut (pipeline.ts replays the memo lib/cli/noop.ts writes): a repeated no-op build is printed from its memo
// without loading the engine, byte for byte what the full run printed; every kind of change
// it depended on (source, params file, env var, data file, cache entry, output under
// reports/, the command's words) runs the full build instead.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { makeToy, TOY_FILES, TOY_STAGES } from '../engine/toy.ts';

const pipelineModule = fileURLToPath(new URL('../../pipeline.ts', import.meta.url));
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const USED = 'debug: no-op memo used\n';

/** The toy project with one more stage that reads a data file named by TOY_SRC, run through pipeline.ts's commandLine. */
function toy(): { dir: string; src: string } {
  const dir = makeToy({
    ...TOY_FILES,
    'stages/x.ts': `import fs from 'node:fs';
export default { name: 'x', description: 'bytes of a file', inputs: [], pathEnv: ['TOY_SRC'],
  externals: (_p, env) => [{ name: 'src', path: env.TOY_SRC }],
  run({ externals }) { return { json: { text: fs.readFileSync(externals.src.path, 'utf8') } }; } };\n`,
    'schemas/x.params.json': JSON.stringify({ type: 'object', properties: {}, additionalProperties: false }),
  });
  fs.writeFileSync(
    path.join(dir, 'pipeline.ts'),
    `import { commandLine } from ${JSON.stringify(pipelineModule)};
process.exitCode = await commandLine({ root: ${JSON.stringify(dir)}, stageFiles: ${JSON.stringify([...TOY_STAGES, 'stages/x.ts'])}, argv: process.argv.slice(2) });\n`,
  );
  const src = path.join(dir, 'src.txt');
  fs.writeFileSync(src, 'hello\n');
  return { dir, src };
}

function run(dir: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TOTAL_INTERP_')));
    const child = spawn(process.execPath, ['--import', tsxLoader, path.join(dir, 'pipeline.ts'), ...args], {
      cwd: dir,
      env: { ...base, TOTAL_INTERP_DEBUG: '1', TOY_SRC: path.join(dir, 'src.txt'), ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// A memo is written only once every file the run read has settled (2 s: keep/hash.ts statKey).
const settle = () => new Promise((r) => setTimeout(r, 2100));
const ARGS = ['run', 'c', 'x', 'e'];

/** A full no-op run that leaves a memo, then the same command served from it. */
async function armed(dir: string, args = ARGS, env: Record<string, string> = {}) {
  await settle();
  const full = await run(dir, args, env);
  expect(full.code).toBe(0);
  expect(full.stderr).not.toMatch(/ran\s/);
  expect(full.stderr).not.toContain('debug: no no-op memo');
  return full;
}

describe('a no-op build served from its memo', () => {
  it('a repeat no-op prints exactly what the full run printed (text and --json), and exits 0', async () => {
    const { dir } = toy();
    expect((await run(dir, ARGS)).code).toBe(0);
    for (const args of [ARGS, [...ARGS, '--json']]) {
      const full = await armed(dir, args);
      const again = await run(dir, args);
      expect(again.code).toBe(0);
      expect(again.stderr.startsWith(USED)).toBe(true);
      expect(again.stderr.slice(USED.length)).toBe(full.stderr);
      expect(again.stdout).toBe(full.stdout);
    }
    // The full run's own lines, for the record: every stage cached.
    expect((await run(dir, ARGS)).stderr).toMatch(/cached\s+c[\s\S]*0 ran, 5 cached/);
  }, 30000);

  it('every kind of change runs the full build, with the right result', async () => {
    const { dir, src } = toy();
    expect((await run(dir, ARGS)).code).toBe(0);
    const changed = async (what: RegExp, env: Record<string, string> = {}, args = ARGS) => {
      const r = await run(dir, args, env);
      expect(r.code).toBe(0);
      expect(r.stderr).not.toContain(USED);
      expect(r.stderr).toMatch(what);
      return r;
    };

    // a source file a stage imports
    await armed(dir);
    fs.appendFileSync(path.join(dir, 'lib/util.ts'), '// edited\n');
    await changed(/memo not used: .*lib\/util\.ts changed[\s\S]*ran\s+b/);

    // a new source file (its folder changed)
    await armed(dir);
    fs.writeFileSync(path.join(dir, 'stages/unused.ts'), 'export {};\n');
    await changed(/memo not used: .*stages changed/);

    // a params file
    await armed(dir);
    fs.writeFileSync(path.join(dir, 'schemas/a.params.json'), TOY_FILES['schemas/a.params.json'].replace('"default":4', '"default":5'));
    await changed(/memo not used: .*a\.params\.json changed[\s\S]*ran\s+a/);

    // an environment variable the CLI reads, and one a stage reads
    await armed(dir);
    await changed(/memo not used: TOTAL_INTERP_LOCK_TIMEOUT changed/, { TOTAL_INTERP_LOCK_TIMEOUT: '7' });
    const copy = path.join(dir, 'src-copy.txt');
    fs.copyFileSync(src, copy);
    await settle();
    // (the run above left a memo for its own environment)
    await changed(/memo not used: TOY_SRC changed/, { TOTAL_INTERP_LOCK_TIMEOUT: '7', TOY_SRC: copy });

    // the data file's content
    await armed(dir);
    fs.writeFileSync(src, 'changed\n');
    const d = await changed(/memo not used: .*src\.txt changed[\s\S]*ran\s+x/);
    expect(d.stderr).toMatch(/1 ran/);

    // a cache entry removed
    await armed(dir);
    const entries = path.join(dir, 'cache/entries/c');
    for (const f of fs.readdirSync(entries)) fs.rmSync(path.join(entries, f));
    await changed(/memo not used: .*cache\/entries\/c.* changed[\s\S]*ran\s+c/);

    // an output under reports/ deleted: the full run writes it again
    await armed(dir);
    fs.rmSync(path.join(dir, 'reports/toy/out.txt'));
    await changed(/memo not used: .*reports\/toy\/out\.txt changed/);
    expect(fs.readFileSync(path.join(dir, 'reports/toy/out.txt'), 'utf8')).toMatch(/^out=/);

    // other words: another memo (none yet), so the full run
    const other = await run(dir, [...ARGS, '--set', 'a.n=6']);
    expect(other.stderr).not.toContain(USED);
    expect(other.stderr).toMatch(/ran\s+a/);
  }, 90000);

  it('only a local report or run is memoized', async () => {
    const { memoizable } = await import('../../pipeline.ts');
    expect(memoizable(['report'], {})).toBe(true);
    expect(memoizable([], {})).toBe(true);
    expect(memoizable(['--quiet', '--set', 'model.source=paper'], {})).toBe(true);
    expect(memoizable(['run', 'trace'], {})).toBe(true);
    for (const argv of [['status'], ['ls'], ['--json', 'status'], ['report', '--seeds', '1,2'], ['report', '--sweep', 'data.bytes=1,2'], ['report', '--remote-cache', 'http://x'], ['report', '--help']]) {
      expect(memoizable(argv, {}), argv.join(' ')).toBe(false);
    }
    expect(memoizable(['report'], { TOTAL_INTERP_REMOTE_CACHE: 'http://x' })).toBe(false);
  });
});

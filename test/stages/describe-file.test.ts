// A description edited by hand (describe.file), through the real engine on a copy of the
// project with a tiny imported model: invalid JSON or a NaN is a usage error (exit 2, one
// error: line and one hint: line) raised when describe is planned, so neither describe nor
// anything downstream of it is cached; a valid edit is read back by rebuild.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyProject, pipelineCli } from '../helpers/project.ts';
import { describeFull, sizeOf } from '../../lib/analysis/describe.ts';
import { paramCount, weightsFrom } from '../../lib/rnn/weights.ts';

const H = 8;
const MODEL = ['--set', 'model.source=w8.bin', '--set', `model.hidden=${H}`];

describe('describe.file: a description edited by hand', () => {
  let dir: string;
  let good: string;

  beforeAll(() => {
    dir = copyProject();
    const p = new Float32Array(paramCount(H));
    for (let i = 0; i < p.length; i++) p[i] = 0.1 * Math.sin(i * 0.7);
    fs.writeFileSync(path.join(dir, 'w8.bin'), new Uint8Array(p.buffer));
    good = sizeOf(describeFull(weightsFrom(p, H))).text;
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const statesOf = async (stages: string[]) => {
    const r = await pipelineCli(dir, ['status', '--json', ...MODEL]);
    const all = JSON.parse(r.stdout).stages as { name: string; state: string }[];
    return stages.map((n) => all.find((s) => s.name === n)!.state);
  };

  it('invalid JSON and a NaN: error and hint, exit 2, nothing cached', async () => {
    // (the other ways a description can be wrong are in test/analysis/rebuild.test.ts)
    const cases: [string, string, RegExp][] = [
      ['nan.json', good.replace(/"bh":\[[-0-9.e]+/, '"bh":[NaN'), /description nan\.json: not valid JSON/],
      ['inf.json', good.replace(/"bh":\[[-0-9.e]+/, '"bh":[1e999'), /description inf\.json: description\.body\.bh\[0\] is Infinity, not a finite number/],
    ];
    for (const [file, text, why] of cases) {
      fs.writeFileSync(path.join(dir, file), text);
      const r = await pipelineCli(dir, ['run', 'rebuild', '--quiet', ...MODEL, '--set', `describe.file=${file}`]);
      expect(r.code, r.stderr).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines.filter((l) => l.startsWith('error:')), r.stderr).toHaveLength(1);
      expect(lines.find((l) => l.startsWith('error:'))).toMatch(why);
      expect(lines.filter((l) => l.startsWith('hint:')), r.stderr).toHaveLength(1);
    }
    expect(await statesOf(['describe', 'rebuild'])).toEqual(['missing', 'missing']);
  }, 120_000);

  it('a valid edit is read back by rebuild: its full level writes the edited weight', async () => {
    fs.writeFileSync(path.join(dir, 'edit.json'), good.replace(/"bh":\[[-0-9.e]+/, '"bh":[0.5'));
    const r = await pipelineCli(dir, ['run', 'rebuild', '--quiet', ...MODEL, '--set', 'describe.file=edit.json']);
    expect(r.code, r.stderr).toBe(0);
    const show = await pipelineCli(dir, ['show', 'describe', '--json', '--no-build', ...MODEL, '--set', 'describe.file=edit.json']);
    const levels = JSON.parse(show.stdout).json.levels;
    expect(levels.find((l: any) => l.level === 'full').edited).toBe(true);
    expect(levels.filter((l: any) => l.edited)).toHaveLength(1);
  }, 60_000);
});

// The kn stage's bad input through the CLI (end to end: a copy of the project, the CLI in a
// child process): an error with a hint, exit 2, nothing cached.
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { copyProject, pipelineCli } from '../helpers/project.ts';

describe('kn stage through the CLI', () => {
  it('bad input through the CLI: an order of 0 or 20, or an overlapping held-out block, is an error with a hint, exit 2, nothing cached', async () => {
    const dir = copyProject();
    try {
      const cache = path.join(dir, 'cache');
      for (const [set, what] of [
        ['kn.maxOrder=0', /^error: invalid params for stage kn:\nkn\.maxOrder: must be >= 1, got 0/],
        ['kn.maxOrder=20', /^error: invalid params for stage kn:\nkn\.maxOrder: must be <= 16, got 20/],
        ['data.heldoutOffset=512', /^error: the held-out block \[512, 1536\) overlaps the training prefix \[0, 1024\)/],
      ] as const) {
        const r = await pipelineCli(dir, ['run', 'kn', '--set', set], { TOTAL_INTERP_CACHE: cache });
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toMatch(what);
        expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^hint: /);
        // no object, entry or latest pointer: not a file anywhere under the cache
        const files = fs.existsSync(cache) ? fs.readdirSync(cache, { recursive: true }).filter((f) => fs.statSync(path.join(cache, String(f))).isFile()) : [];
        expect(files).toEqual([]);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

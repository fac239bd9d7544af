// gc and the no-op memos (<cache>/noop/, lib/cli/noop.ts): a memo that can never be replayed
// again (a file it names has another stat now, or it does not parse) goes; one still in force
// stays, so the next identical command is still answered from it.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gc } from '../../lib/engine/keep/gc.ts';
import { statKey } from '../../lib/engine/keep/hash.ts';
import { loadToy, makeToy } from './toy.ts';

describe('gc and the no-op memos', () => {
  it('removes the memos that can no longer be replayed and keeps the one in force', async () => {
    const dir = makeToy();
    const p = await loadToy(dir);
    await p.build(['b']);
    const noop = path.join(p.store.root, 'noop');
    fs.mkdirSync(noop, { recursive: true });
    const src = path.join(dir, 'watched.txt');
    fs.writeFileSync(src, 'a');
    const key = statKey(fs.statSync(src, { bigint: true }));
    const memo = (files: Record<string, string>) => JSON.stringify({ key: 'k', env: {}, files, out: '', err: '' });
    fs.writeFileSync(path.join(noop, 'aaaaaaaa.json'), memo({ [src]: key, [path.join(dir, 'nothing-here')]: 'absent' }));
    fs.writeFileSync(path.join(noop, 'bbbbbbbb.json'), memo({ [src]: '1:2:3:4:5' })); // another stat: code edited since
    fs.writeFileSync(path.join(noop, 'cccccccc.json'), '{"files": '); // torn
    fs.writeFileSync(path.join(noop, 'dddddddd.json.tmp-1'), memo({})); // a partial write of a killed run

    const would = gc(p.project, p.store, { reportsDir: p.reportsDir, graceMs: 0, dryRun: true });
    expect(would.memos).toBe(3);
    expect(fs.readdirSync(noop)).toHaveLength(4);
    const r = gc(p.project, p.store, { reportsDir: p.reportsDir, graceMs: 0 });
    expect(r.memos).toBe(3);
    expect(fs.readdirSync(noop)).toEqual(['aaaaaaaa.json']);
    fs.writeFileSync(src, 'b'); // now stale too
    expect(gc(p.project, p.store, { reportsDir: p.reportsDir, graceMs: 0 }).memos).toBe(1);
    expect(fs.readdirSync(noop)).toEqual([]);
  });
});

// The one plan behind build, the dry run, status and gc: per stage its key, record, and
// hit or the reasons for a miss; they all agree on it.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { plan } from '../../lib/engine/decide/plan.ts';
import { wordReason } from '../../lib/cli/commands.ts';
import { makeKey, ENGINE_VERSION } from '../../lib/engine/decide/key.ts';
import { loadToy, makeToy } from './toy.ts';

describe('plan', () => {
  it('gives each stage its key and record, hit or the reasons; build, dry run and status agree with it', async () => {
    const dir = makeToy();
    const p = await loadToy(dir);
    const params = p.resolveAll({});
    const before = plan(p.project, p.store, params, ['c']);
    expect(before.order).toEqual(['a', 'b', 'c']);
    expect(before.stages.get('a')).toMatchObject({ state: 'missing', reasons: [{ kind: 'never-built' }], blockedBy: [] });
    expect(before.stages.get('a')!.keyed!.record).toMatchObject({ engine: ENGINE_VERSION, stage: 'a', params: { n: 4, offset: 0 } });
    expect(before.stages.get('b')).toMatchObject({ state: 'missing', blockedBy: ['a'], reasons: [{ kind: 'upstream', stage: 'a', how: 'missing' }, { kind: 'never-built' }] });
    expect(before.stages.get('b')!.reasons.map(wordReason)).toEqual(['upstream a missing', 'never built']);
    expect(before.stages.get('b')!.keyed).toBeUndefined();

    const built = await p.build(['c']);
    const after = plan(p.project, p.store, params, ['c']);
    for (const name of after.order) {
      const s = after.stages.get(name)!;
      expect(s.state).toBe('fresh');
      expect(s.entry!.key).toBe(s.keyed!.key);
      expect(built.runs.find((r) => r.name === name)!.key).toBe(s.keyed!.key.slice(0, 12));
    }
    // The key is the record's hash, made by the one function in key.ts.
    const a = after.stages.get('a')!;
    expect(makeKey({ def: p.byName.get('a')!.def, code: p.project.code('a'), params: params.a, upstream: {}, externals: {}, env: {}, overrides: {} }).key).toBe(a.keyed!.key);

    fs.appendFileSync(path.join(dir, 'stages/b.ts'), '// edit\n');
    const q = await loadToy(dir);
    const edited = plan(q.project, q.store, params, ['c'], { all: true });
    expect(edited.order).toEqual(['a', 'b', 'c', 'd', 'slow', 'e']);
    expect(edited.stages.get('b')).toMatchObject({ state: 'stale', reasons: [{ kind: 'code', change: 'changed', file: 'stages/b.ts' }], needed: true });
    expect(edited.stages.get('d')!.needed).toBe(false);
    const st = await q.status({ targets: ['c'] });
    for (const s of st) expect([s.state, s.reasons]).toEqual([edited.stages.get(s.name)!.state, edited.stages.get(s.name)!.reasons]);
    const dry = await q.build(['c'], { dryRun: true });
    expect(dry.runs.map((r) => [r.name, r.status, r.reasons?.map(wordReason)])).toEqual([
      ['a', 'cached', undefined],
      ['b', 'would-run', ['code changed: stages/b.ts']],
      ['c', 'would-run', ['upstream b will run']],
    ]);
    expect(dry.runs[2].reasons).toEqual([{ kind: 'upstream', stage: 'b', how: 'will-run' }]);
  });
});

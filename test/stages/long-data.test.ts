// Data beyond 1 KiB: the 1 MiB head of enwik9 from
// TOTAL_INTERP_ENWIK9_1MIB (CI sets it), else ../shared/reference/enwik9-head-1MiB.txt
// (test/helpers/reference.ts); skipped where neither exists. The data stage reads a 64 KiB prefix of it, and the §5
// stages run end to end at N = 4096 on a tiny trained model.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import stage from '../../stages/data.ts';
import { LocalStore } from '../../lib/engine/keep/store.ts';
import { loadOutput } from '../../lib/engine/run/execute.ts';
import { loadSchemas } from '../../lib/engine/params.ts';
import { copyProject, pipelineCli, type Run } from '../helpers/project.ts';
import { REF_DATA, enwik1MiB } from '../helpers/reference.ts';

const HEAD = ((p) => (p && existsSync(p) ? p : null))(enwik1MiB());

describe.skipIf(!HEAD)('data beyond 1 KiB (enwik9-head-1MiB.txt)', () => {
  it('the data stage reads a 64 KiB prefix whose first 1024 bytes are the 1024-byte reference file', async () => {
    const N = 65536;
    const params = { bytes: N, path: HEAD, url: 'http://mattmahoney.net/dc/enwik9.zip', heldoutOffset: null, heldoutBytes: null };
    const ext = stage.externals!(params, {});
    expect(ext).toEqual([expect.objectContaining({ path: HEAD, maxBytes: 2 * N })]);
    const out = await stage.run({ params, inputs: {}, externals: { source: ext[0] } as any, progress: () => {}, warn: () => {}, env: {} });
    const xs = out.tensors!.bytes.data as Uint8Array;
    expect(out.tensors!.bytes.shape).toEqual([N]);
    expect(xs.length).toBe(N);
    expect(Buffer.from(xs).equals(readFileSync(HEAD!).subarray(0, N))).toBe(true);
    expect(Buffer.from(xs.subarray(0, 1024)).equals(readFileSync(REF_DATA))).toBe(true);
    expect(out.json.sha256).toBe(createHash('sha256').update(xs).digest('hex'));
  });

  describe('run carrier-pattern influence at N = 4096 on a tiny trained model', () => {
    let dir: string;
    let first: Run;
    const args = ['run', 'carrier-pattern', 'influence', '--set', 'data.bytes=4096', '--set', 'train.hidden=8', '--set', 'train.epochs=3', '--json'];

    beforeAll(async () => {
      dir = copyProject();
      first = await pipelineCli(dir, args, { ENWIK9: HEAD! });
    }, 180_000);

    it('builds data, train, model, trace and the two stages over 4096 bytes', () => {
      expect(first.code, first.stderr).toBe(0);
      const j = JSON.parse(first.stdout);
      expect(j.stages.map((s: any) => s.name).sort()).toEqual(['carrier-pattern', 'data', 'influence', 'model', 'trace', 'train']);
      expect(j.stages.every((s: any) => s.status === 'ran')).toBe(true);
      expect(j.report).toBeNull();
      const store = new LocalStore(path.join(dir, 'cache'));
      const load = (name: string) => {
        const e = store.latestEntry(name)!;
        return loadOutput(store, e, loadSchemas(path.join(dir, 'schemas'), name).output);
      };
      const cp = load('carrier-pattern').json;
      expect(cp.N).toBe(4096);
      expect(cp.H).toBe(8);
      expect(cp.positions).toEqual({ first: 0, last: 4094, count: 4095 });
      expect(cp.psPerPosition).toBeGreaterThanOrEqual(0);
      expect(cp.psPerPosition).toBeLessThanOrEqual(8);
      const inf = load('influence');
      // T = 50..4093: 4044 output positions, all of them (below influence.maxPositions)
      expect([inf.json.N, inf.json.firstT, inf.json.lastT, inf.json.count, inf.json.sample.sampled]).toEqual([4096, 50, 4093, 4044, false]);
      expect(inf.tensors.influence.shape).toEqual([4044, 50]);
      expect(inf.json.rows.every((r: any) => Number.isFinite(r.signed) && r.grad >= 0)).toBe(true);
    });

    it('a second run is all cached', async () => {
      const again = await pipelineCli(dir, args, { ENWIK9: HEAD! });
      expect(again.code, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout).stages.filter((s: any) => s.status !== 'cached')).toEqual([]);
    }, 60_000);
  });
});

// Where a stage runs under --jobs: its expected time from earlier runs in the cache decides;
// a stage's reported seconds are its own, whatever runs beside it.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHILD_ABOVE_S, HERE_BELOW_S, Slots, byChainSeconds, expectedSeconds, oneHere, placement } from '../../lib/engine/run/placement.ts';
import { TOY_FILES, TOY_STAGES, loadToy, makeToy } from './toy.ts';

// spin: a second wall-clock spinner beside the toy's `slow`, reading b like it, so both become
// ready at once and `slow` (first in order) starts first.
const FILES = {
  ...TOY_FILES,
  'stages/spin.ts': `export default { name: 'spin', description: 'spins too', inputs: ['b'],
  run({ params, inputs }) { const end = performance.now() + params.ms; while (performance.now() < end) {} return { json: { out: inputs.b.json.sum } }; } };\n`,
  'schemas/spin.params.json': JSON.stringify({ type: 'object', properties: { ms: { type: 'integer', default: 300 } }, additionalProperties: false }),
};
const STAGES = [...TOY_STAGES, 'stages/spin.ts'];

describe('placement', () => {
  it('orders ready stages by the seconds on their longest chain below, not by how many stages it has', () => {
    // a -> b -> c -> end (three quick stages) against a -> slow -> end
    const inputs: Record<string, string[]> = { a: [], b: ['a'], c: ['b'], slow: ['a'], end: ['c', 'slow'] };
    const secs: Record<string, number> = { a: 0.1, b: 0.1, c: 0.1, slow: 2, end: 0.5 };
    const order = Object.keys(inputs);
    expect(byChainSeconds(order, (n) => inputs[n], (n) => secs[n])).toEqual(['a', 'slow', 'b', 'c', 'end']);
    // with every stage equal it is the count of stages again
    expect(byChainSeconds(order, (n) => inputs[n], () => 1).slice(0, 2)).toEqual(['a', 'b']);
  });

  it('runs a stage here when it is alone or jobs is 1, a long one in a child of its own (even then), else in the first free slot', () => {
    expect(placement(60, { jobs: 1, alone: false })).toBe('here');
    expect(placement(60, { jobs: 2, alone: true })).toBe('here');
    expect(placement(null, { jobs: 2, alone: true })).toBe('here');
    // not alone: a worker of the pool when one is free, timed or never timed
    expect(placement(CHILD_ABOVE_S + 0.01, { jobs: 2, alone: false })).toBe('pool-first');
    expect(placement(null, { jobs: 2, alone: false })).toBe('pool-first');
    // a stage timed shorter than reading its inputs again in a worker prefers this process
    expect(placement(HERE_BELOW_S, { jobs: 4, alone: false })).toBe('here-first');
    expect(placement(HERE_BELOW_S + 0.01, { jobs: 4, alone: false })).toBe('pool-first');
    // a stage that declares itself long (training) goes to a child of its own on its first run
    expect(placement(null, { jobs: 2, alone: false, long: true })).toBe('child');
    expect(placement(null, { jobs: 2, alone: true, long: true })).toBe('child'); // even alone: Ctrl-C answered at once
    expect(placement(null, { jobs: 1, alone: true, long: true })).toBe('child'); // --jobs 1 too
    expect(placement(0.2, { jobs: 1, alone: true, long: true })).toBe('here'); // unless its runs say it is short
    expect(placement(0.2, { jobs: 2, alone: false, long: true })).toBe('here-first'); // once timed, its time decides
    expect(placement(1.5, { jobs: 2, alone: false, long: true })).toBe('child');
    expect(placement(0.9, { jobs: 2, alone: false })).toBe('here-first'); // under a second: this process first
  });

  it('expects the seconds of the entry for this key, else of the latest build, else nothing', async () => {
    const dir = makeToy(FILES);
    const p = await loadToy(dir, STAGES);
    expect(expectedSeconds(p.store, 'spin', '0'.repeat(64))).toBeNull();
    const r = await p.build(['spin'], { overrides: { spin: { ms: 50 } } });
    const e = r.entries.spin;
    expect(e.seconds).toBeGreaterThanOrEqual(0.05);
    expect(expectedSeconds(p.store, 'spin', e.key)).toBe(e.seconds);
    expect(expectedSeconds(p.store, 'spin', '0'.repeat(64))).toBe(e.seconds); // another key: the latest build
    // a damaged entry says nothing
    fs.writeFileSync(path.join(p.store.root, 'entries', 'spin', `${e.key}.json`), '{');
    expect(expectedSeconds(p.store, 'spin', e.key)).toBeNull();
  });

  it("with a long stage here and another in the pool at once, each reports its own seconds (within 2x of its time alone)", async () => {
    const dir = makeToy(FILES);
    const overrides = { slow: { ms: 2500 }, spin: { ms: 300 } };
    const alone = (await (await loadToy(dir, STAGES)).build(['spin'], { overrides, force: ['spin'] })).runs.find((r) => r.name === 'spin')!;
    expect(alone.status).toBe('ran');
    // `slow` timed too, so that it has the most seconds below it and asks for its slot first
    // (untimed, it counted 0 s against spin's 0.3 s, and where each ran depended on whether the
    // pool's worker started within spin's 0.3 s). `slow` (over a second: pool first) then takes
    // this process while the pool's worker starts, and `spin` waits for the worker (or, on a
    // machine so loaded that the worker starts after 2.5 s, for this process). Each reports its
    // own seconds: not the scheduler's wall clock, which counts the wait and the worker's
    // start-up, and not `slow`'s 2.5 s beside it.
    await (await loadToy(dir, STAGES)).build(['slow'], { overrides, force: ['slow'] });
    const both = await (await loadToy(dir, STAGES)).build(['slow', 'spin'], { overrides, force: ['slow', 'spin'], jobs: 2 });
    const spin = both.runs.find((r) => r.name === 'spin')!;
    expect(both.runs.find((r) => r.name === 'slow')!.where).toBe('here');
    expect(spin.status).toBe('ran');
    expect(spin.seconds).toBeGreaterThanOrEqual(0.3);
    expect(spin.seconds).toBeLessThan(2 * alone.seconds);
    expect(both.runs.find((r) => r.name === 'slow')!.seconds).toBeGreaterThanOrEqual(2.5);
  }, 60_000);
});

describe('free slots (build.ts starts a stage only when one is free)', () => {
  it('busy while this process runs a stage and no worker is free; freed() resolves once it is done', async () => {
    const slots = new Slots(2);
    try {
      expect(slots.busy()).toBe(false);
      let during: boolean | null = null;
      let freed = false;
      const f = slots.freed().then(() => (freed = true));
      const here = await slots.slot('pool'); // no pool: this process
      expect(here).toBe('here');
      await oneHere(async () => {
        during = slots.busy();
      }, true);
      expect(during).toBe(true);
      await f;
      expect(freed).toBe(true);
      expect(slots.busy()).toBe(false);
    } finally {
      slots.close();
    }
  });
});

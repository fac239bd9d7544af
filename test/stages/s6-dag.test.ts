// docs/definitions.md §6.3: the rebuild stage sees the descriptions, nothing else. Reads the
// stage graph in force (trained and imported model) from the project's own pipeline.ts.
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pipeline } from '../../lib/engine/pipeline.ts';
import { STAGES } from '../../pipeline.ts';
import { root } from '../helpers/project.ts';


/** Stages upstream of `from` reached without passing through `through`. */
function reachable(nodes: { name: string; inputs: readonly string[] }[], from: string, through: string): Set<string> {
  const by = new Map(nodes.map((n) => [n.name, n.inputs]));
  const seen = new Set<string>();
  const stack = [...(by.get(from) ?? [])];
  while (stack.length) {
    const s = stack.pop()!;
    if (seen.has(s)) continue;
    seen.add(s);
    if (s !== through) stack.push(...(by.get(s) ?? []));
  }
  return seen;
}

describe('rebuild is fed by describe only (docs/definitions.md §6.3)', () => {
  it('no stage reaches rebuild except through describe, trained or imported', async () => {
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-s6-dag-'));
    try {
      const p = await Pipeline.load({ root, stageFiles: STAGES, env: {}, cacheDir });
      const cases: Record<string, Record<string, unknown>>[] = [{}, { model: { source: 'weights.bin' } }];
      for (const overrides of cases) {
        const nodes = p.graph(p.resolveAll(overrides));
        expect([...p.inputsOf('rebuild', p.resolveAll(overrides))]).toEqual(['describe']);
        expect([...reachable(nodes, 'rebuild', 'describe')]).toEqual(['describe']);
        // and describe itself does read the model: the check above is not vacuous
        expect(reachable(nodes, 'describe', '').has('model')).toBe(true);
      }
    } finally {
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it('the check catches a rebuild that reads the data or the trace directly', () => {
    const nodes = [
      { name: 'data', inputs: [] }, { name: 'model', inputs: [] }, { name: 'trace', inputs: ['model', 'data'] },
      { name: 'describe', inputs: ['model', 'data'] }, { name: 'rebuild', inputs: ['describe', 'trace'] },
    ];
    expect([...reachable(nodes, 'rebuild', 'describe')].sort()).toEqual(['data', 'describe', 'model', 'trace']);
    expect([...reachable([...nodes.slice(0, 4), { name: 'rebuild', inputs: ['describe', 'data'] }], 'rebuild', 'describe')].sort()).toEqual(['data', 'describe']);
  });
});

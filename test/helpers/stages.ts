// Calling a stage's run() directly, as the engine does: params from its schema's defaults
// plus overrides, output checked against its output schema, declared tensors present; the
// upstream outputs (model, data, trace) for given weights and bytes; and the checks every
// section builder must pass.
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { checkOutput, loadSchemas, resolveParams } from '../../lib/engine/params.ts';
import type { StageDef, StageOutput, StageResult } from '../../lib/engine/types.ts';
import { isCmp, type SectionPart } from '../../lib/report/types.ts';
import { forwardTrace } from '../../lib/rnn/forward.ts';
import { V, parseWeightsFile, type Weights } from '../../lib/rnn/weights.ts';
import { ctx, dataOutput, output } from '../rnn/stage-ctx.ts';
import { PAPER_WEIGHTS, refBytes } from './reference.ts';

export { ctx, dataOutput, output };

export const figures: Record<string, unknown> = JSON.parse(readFileSync('lib/report/paper-figures.json', 'utf8'));

/** model, data and trace outputs for weights w on bytes xs. */
export function upstream(w: Weights, xs: Uint8Array): Record<string, StageOutput> {
  const tr = forwardTrace(w, xs);
  const T = xs.length;
  return {
    model: output({ H: w.H }, { params: { dtype: 'float32', shape: [w.params.length], data: w.params } }),
    data: dataOutput(xs),
    trace: output({ T, H: w.H }, {
      z: { dtype: 'float32', shape: [T, w.H], data: tr.z },
      S: { dtype: 'float32', shape: [T, w.H], data: tr.S },
      logp: { dtype: 'float64', shape: [T, V], data: tr.logp },
      lpNext: { dtype: 'float64', shape: [tr.lpNext.length], data: tr.lpNext },
      bits: { dtype: 'float64', shape: [T - 1], data: tr.bits },
    }),
  };
}

let paperMemo: Record<string, StageOutput> | null = null;
/** upstream() for the paper's weights on the paper's data (only where PAPER_WEIGHTS is set). */
export function paperUpstream(): Record<string, StageOutput> {
  return (paperMemo ??= upstream(parseWeightsFile(new Uint8Array(readFileSync(PAPER_WEIGHTS))), refBytes()));
}

/** Run a stage as the engine does; its output must satisfy the schema and carry its tensors. */
export async function runStage(def: StageDef, inputs: Record<string, StageOutput>, overrides: Record<string, unknown> = {}): Promise<StageResult> {
  const schemas = loadSchemas('schemas', def.name);
  const res = await def.run(ctx(resolveParams(def.name, schemas.params, overrides), inputs));
  expect(checkOutput(def.name, schemas.output, res.json, 'write')).toBeNull();
  expect(Object.keys(res.tensors ?? {}).sort()).toEqual([...(def.tensors ?? [])].sort());
  return res;
}

/** A stage result as a downstream stage (or a section builder) sees it. */
export function asOutput(r: StageResult, key = 'k'): StageOutput {
  return { json: r.json, tensors: r.tensors ?? {}, key, outputHash: `h-${key}` };
}

/** |ours - spec| within half a unit of the last printed decimal of the cross-check figures (docs/definitions.md §V). */
export function close(ours: number, spec: number, printedDecimals: number): void {
  expect(Math.abs(ours - spec), `ours ${ours} vs the cross-check figures (docs/definitions.md §V) ${spec}`).toBeLessThanOrEqual(0.5 * 10 ** -printedDecimals + 1e-12);
}

/**
 * A section builder's part: these table ids (at least) and exactly these metric ids; every
 * row has the table's columns, every paper reference exists, every metric is finite.
 */
export function checkSection(part: SectionPart, tableIds: string[], metricIds: string[]): void {
  expect(part.tables.map((t) => t.id)).toEqual(expect.arrayContaining(tableIds));
  expect(part.metrics.map((m) => m.id).sort()).toEqual([...metricIds].sort());
  for (const t of part.tables) {
    expect(t.positions.length, t.id).toBeGreaterThan(0);
    expect(t.provenance?.key, t.id).toMatch(/^k/);
    for (const row of t.rows) {
      expect(Object.keys(row).sort(), t.id).toEqual(t.columns.map((c) => c.key).sort());
      for (const c of Object.values(row)) if (isCmp(c) && c.ref !== undefined) expect(figures, `${t.id}: ref ${c.ref}`).toHaveProperty([c.ref]);
    }
  }
  for (const m of part.metrics) expect(Number.isFinite(m.value), m.id).toBe(true);
}

/** Every paper reference in a part's tables. */
export function refsOf(part: SectionPart): string[] {
  return part.tables.flatMap((t) => t.rows.flatMap((r) => Object.values(r).flatMap((c) => (isCmp(c) && c.ref ? [c.ref] : []))));
}

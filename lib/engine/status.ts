// `status`: every stage fresh, stale or missing, with the reasons, from the plan.
// Nothing is built or written.

import { plan } from './plan.ts';
import type { Overrides, Pipeline } from './pipeline.ts';

export interface StageStatus {
  name: string;
  state: 'fresh' | 'stale' | 'missing';
  reasons: string[];
  /** Short key, when the stage's upstreams are fresh. */
  key?: string;
  /** In the closure of the targets (default: every stage). */
  needed: boolean;
}

export function status(p: Pipeline, opts: { overrides?: Overrides; targets?: readonly string[] } = {}): StageStatus[] {
  const pl = plan(p, p.resolveAll(opts.overrides ?? {}), opts.targets ?? null, { all: true });
  return pl.order.map((name) => {
    const s = pl.stages.get(name)!;
    return { name, state: s.state, reasons: s.reasons, ...(s.keyed ? { key: s.keyed.key.slice(0, 12) } : {}), needed: s.needed };
  });
}

/** True when every needed stage is fresh (for `status --exit-code`). */
export function allFresh(st: readonly StageStatus[]): boolean {
  return st.every((s) => !s.needed || s.state === 'fresh');
}

// `status`: every stage fresh, stale or missing, with the reasons, read off a plan.
// Nothing is built or written.

import type { Plan } from './plan.ts';
import type { Staleness } from './explain.ts';

export interface StageStatus {
  name: string;
  state: 'fresh' | 'stale' | 'missing';
  reasons: Staleness[];
  /** Short key, when the stage's upstreams are fresh. */
  key?: string;
  /** In the closure of the targets (default: every stage). */
  needed: boolean;
}

/** The status of every stage a plan covers (plan it with `all: true` for every stage). */
export function status(pl: Plan): StageStatus[] {
  return pl.order.map((name) => {
    const s = pl.stages.get(name)!;
    return { name, state: s.state, reasons: s.reasons, ...(s.keyed ? { key: s.keyed.key.slice(0, 12) } : {}), needed: s.needed };
  });
}

/** True when every needed stage is fresh (for `status --exit-code`). */
export function allFresh(st: readonly StageStatus[]): boolean {
  return st.every((s) => !s.needed || s.state === 'fresh');
}

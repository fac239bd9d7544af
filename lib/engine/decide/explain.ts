// Why a stage is stale: typed reasons, each from one small named check on two key records
// (targets' habit: every staleness reason can be named to the user). The caller words them
// (lib/cli/reasons.ts); the engine only says what differs.

import type { Entry } from '../keep/entry.ts';
import type { KeyRecord } from './key.ts';

/** One reason a stage's key is not in the cache (or why it will run). */
export type Staleness =
  /** The engine's format version changed (key.ts ENGINE_VERSION). */
  | { kind: 'engine'; was: number; now: number }
  /** A file of the stage's code closure changed, came or went (file null: only the hash is known). */
  | { kind: 'code'; change: 'added' | 'changed' | 'removed'; file: string | null }
  /** A param's value, as JSON (null: unset). */
  | { kind: 'param'; stage: string; param: string; was: string | null; now: string | null }
  /** An upstream's output changed, an input came or went, or an upstream is not built yet. */
  | { kind: 'upstream'; stage: string; how: 'changed' | 'new' | 'removed' | 'missing' | 'stale' | 'will-run' }
  /** A declared external file's content changed. */
  | { kind: 'external'; name: string }
  /** A declared environment variable's value. */
  | { kind: 'env'; name: string; was: string | null; now: string | null }
  /** The records differ in nothing named above. */
  | { kind: 'key' }
  | { kind: 'forced' }
  | { kind: 'corrupt' }
  | { kind: 'never-built' }
  /** The key could not be made (a missing external file): its error's first line. */
  | { kind: 'error'; message: string };

type Check = (b: KeyRecord, a: KeyRecord, before: Entry, now: { codeFiles: Record<string, string> }) => Staleness[];

function flatten(prefix: string, v: unknown, out: Record<string, string>) {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flatten(prefix ? `${prefix}.${k}` : k, x, out);
  } else out[prefix] = JSON.stringify(v);
}

const keys = (x: object, y: object) => new Set([...Object.keys(x), ...Object.keys(y)]);

export const engineChanged: Check = (b, a) => (b.engine !== a.engine ? [{ kind: 'engine', was: b.engine, now: a.engine }] : []);

export const codeChanged: Check = (b, a, before, now) => {
  if (b.code === a.code) return [];
  const d = diffCode(before.codeFiles ?? {}, now.codeFiles);
  return d.length ? d.map((x) => ({ kind: 'code', ...x })) : [{ kind: 'code', change: 'changed', file: null }];
};

export const paramsChanged: Check = (b, a) => {
  const pb: Record<string, string> = {};
  const pa: Record<string, string> = {};
  flatten('', b.params, pb);
  flatten('', a.params, pa);
  return [...keys(pb, pa)].filter((k) => pb[k] !== pa[k]).map((k) => ({ kind: 'param', stage: a.stage, param: k, was: pb[k] ?? null, now: pa[k] ?? null }));
};

export const upstreamChanged: Check = (b, a) =>
  [...keys(b.inputs, a.inputs)].flatMap((k): Staleness[] =>
    !(k in b.inputs) ? [{ kind: 'upstream', stage: k, how: 'new' }] : !(k in a.inputs) ? [{ kind: 'upstream', stage: k, how: 'removed' }] : b.inputs[k] !== a.inputs[k] ? [{ kind: 'upstream', stage: k, how: 'changed' }] : [],
  );

export const externalsChanged: Check = (b, a) => [...keys(b.externals, a.externals)].filter((k) => b.externals[k] !== a.externals[k]).map((k) => ({ kind: 'external', name: k }));

export const envChanged: Check = (b, a) => [...keys(b.env, a.env)].filter((k) => b.env[k] !== a.env[k]).map((k) => ({ kind: 'env', name: k, was: b.env[k] ?? null, now: a.env[k] ?? null }));

const CHECKS: Check[] = [engineChanged, codeChanged, paramsChanged, upstreamChanged, externalsChanged, envChanged];

/** Why `now` differs from `before` (both key records of one stage), check by check. */
export function explainChange(before: Entry, now: { record: KeyRecord; codeFiles: Record<string, string> }): Staleness[] {
  const r = CHECKS.flatMap((check) => check(before.record, now.record, before, now));
  return r.length ? r : [{ kind: 'key' }];
}

/** The files of a code change: added, changed or removed (in that order, then by path). */
export function diffCode(before: Record<string, string>, after: Record<string, string>): { change: 'added' | 'changed' | 'removed'; file: string }[] {
  const out: { change: 'added' | 'changed' | 'removed'; file: string }[] = [];
  for (const [f, h] of Object.entries(after)) {
    if (!(f in before)) out.push({ change: 'added', file: f });
    else if (before[f] !== h) out.push({ change: 'changed', file: f });
  }
  for (const f of Object.keys(before)) if (!(f in after)) out.push({ change: 'removed', file: f });
  return out.sort((x, y) => (x.change !== y.change ? (x.change < y.change ? -1 : 1) : x.file < y.file ? -1 : x.file > y.file ? 1 : 0));
}

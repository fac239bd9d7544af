// The plan: for the params in force, walk the stages in dependency order and, for each
// one whose upstreams are all in the cache, make its key, look it up and, on a miss, say
// why (against the closest earlier build). Build, dry run, status and gc all start here.

import { upstreamClosure, topoSort, type GraphNode } from './graph.ts';
import { CorruptError, type Entry } from '../keep/entry.ts';
import { explainChange, type Staleness } from './explain.ts';
import type { Keyed } from './key.ts';
import type { FingerprintMemo } from './key.ts';
import type { Params, Project } from '../project.ts';
import type { Store } from '../keep/store.ts';

export type PlanState = 'fresh' | 'stale' | 'missing';

export interface StagePlan {
  name: string;
  inputs: readonly string[];
  /** In the closure of the targets. */
  needed: boolean;
  state: PlanState;
  /** Why it is stale or missing (typed; the caller words them): empty when fresh. */
  reasons: Staleness[];
  /** Upstream stages not in the cache: until they are built, this stage's key is unknown. */
  blockedBy: string[];
  /** Key, record and what the runner needs; absent while blocked (or when the record failed). */
  keyed?: Keyed;
  /** The cached entry, when fresh. */
  entry?: Entry;
}

export interface Plan {
  params: Params;
  nodes: GraphNode[];
  /** Every planned stage, in dependency order. */
  order: string[];
  /** The targets' closure, in dependency order. */
  needed: string[];
  stages: Map<string, StagePlan>;
  /** Fresh entries by stage. */
  entries: Record<string, Entry>;
}

export type Force = boolean | readonly string[];

/**
 * What planning one stage reads: the project, the store, the external files already
 * hashed in this plan or build (hashed once each), and where a dropped entry is said.
 */
export interface Lookup {
  project: Project;
  store: Store;
  fingerprints: FingerprintMemo;
  warn?: (line: string) => void;
}

export function isForced(force: Force | undefined, name: string): boolean {
  return force === true || (Array.isArray(force) && force.includes(name));
}

/**
 * A cached entry that passes every check, or null. When building, a damaged entry is
 * reported as a warning and dropped; status and dry runs leave the store alone.
 */
export function cachedEntry(lk: Lookup, name: string, key: string, building: boolean): { entry: Entry | null; corrupt?: string } {
  try {
    const entry = lk.store.getEntry(name, key);
    if (!entry) return { entry: null };
    // Every object is re-hashed. The JSON was validated against the output schema when it was
    // written, and the schema file is part of the key, so an intact entry still satisfies it;
    // the schema is checked again whenever the JSON is actually read (loadOutput).
    lk.store.verifyEntry(entry); // and, for an entry with artifacts, its outputHash (store.ts)
    return { entry };
  } catch (e) {
    if (!(e instanceof CorruptError) && (e as { reason?: string }).reason !== 'corrupt') throw e;
    const msg = (e as Error).message;
    if (building) {
      lk.warn?.(`warning: ${msg.startsWith('stage') ? msg : `stage ${name}: ${msg}`}; recomputing`);
      lk.store.dropEntry(name, key);
    }
    return { entry: null, corrupt: msg };
  }
}

/**
 * Why a stage's current key is not in the cache, compared with the built entry it is
 * closest to (fewest differences; the latest build on ties), or null if never built. With
 * several seeds or models in one cache, "the last build" is often not the one the user
 * changed, so the closest record gives the clearest reason.
 */
export function explainMiss(store: Store, name: string, now: Keyed): Staleness[] | null {
  const latest = store.latestEntry(name);
  let best: Staleness[] | null = latest ? explainChange(latest, now) : null;
  for (const key of store.keysOf(name)) {
    if (latest && key === latest.key) continue;
    let e: Entry | null = null;
    try {
      e = store.getEntry(name, key);
    } catch {
      continue;
    }
    if (!e) continue;
    const why = explainChange(e, now);
    if (best === null || why.length < best.length) best = why;
  }
  return best;
}

/**
 * One stage whose upstream entries are all known: its key, and hit or miss. `explain`
 * adds the reasons of a miss (it reads older entries, so a build skips it).
 */
export function planStage(
  lk: Lookup,
  name: string,
  params: Params,
  entries: Record<string, Entry>,
  o: { forced?: boolean; building?: boolean; explain?: boolean; needed?: boolean } = {},
): StagePlan {
  const inputs = lk.project.inputsOf(name, params);
  const keyed = lk.project.record(name, params[name], Object.fromEntries(inputs.map((u) => [u, entries[u]])), params, lk.fingerprints);
  const base = { name, inputs, needed: o.needed ?? true, blockedBy: [], keyed };
  if (o.forced) return { ...base, state: 'stale', reasons: [{ kind: 'forced' }] };
  const hit = cachedEntry(lk, name, keyed.key, o.building ?? false);
  if (hit.entry) return { ...base, state: 'fresh', reasons: [], entry: hit.entry };
  if (hit.corrupt) return { ...base, state: 'stale', reasons: [{ kind: 'corrupt' }] };
  const why = o.explain === false ? null : explainMiss(lk.store, name, keyed);
  return why ? { ...base, state: 'stale', reasons: why } : { ...base, state: 'missing', reasons: [{ kind: 'never-built' }] };
}

/**
 * Plan `targets` (null: every stage) for these params. Nothing is built or written.
 * `all`: plan every stage, marking those outside the targets' closure as not needed.
 * `strict`: an error while making a key (a missing external file) is thrown; otherwise it
 * becomes the stage's reason.
 */
export function plan(project: Project, store: Store, params: Params, targets: readonly string[] | null, o: { force?: Force; all?: boolean; strict?: boolean } = {}): Plan {
  // External files are hashed once in this plan (a file two stages declare).
  const lk: Lookup = { project, store, fingerprints: new Map() };
  const nodes = project.graph(params);
  const everything = topoSort(nodes);
  const needed = targets ? upstreamClosure(nodes, targets) : everything;
  const neededSet = new Set(needed);
  const order = o.all ? everything : needed;
  const stages = new Map<string, StagePlan>();
  const entries: Record<string, Entry> = {};
  for (const name of order) {
    const inputs = project.inputsOf(name, params);
    const blockedBy = inputs.filter((u) => !entries[u]);
    const isNeeded = neededSet.has(name);
    if (blockedBy.length) {
      const built = store.latestEntry(name) !== null;
      // An upstream not in the cache is itself stale or missing (a fresh one would be in `entries`).
      const reasons = blockedBy.map((u): Staleness => ({ kind: 'upstream', stage: u, how: stages.get(u)!.state === 'stale' ? 'stale' : 'missing' }));
      stages.set(name, { name, inputs, needed: isNeeded, blockedBy, state: built ? 'stale' : 'missing', reasons: built ? reasons : [...reasons, { kind: 'never-built' }] });
      continue;
    }
    let sp: StagePlan;
    try {
      sp = planStage(lk, name, params, entries, { forced: isForced(o.force, name), needed: isNeeded });
    } catch (e) {
      if (o.strict) throw e;
      const built = store.latestEntry(name) !== null;
      sp = { name, inputs, needed: isNeeded, blockedBy: [], state: built ? 'stale' : 'missing', reasons: [{ kind: 'error', message: (e as Error).message.split('\n')[0] }] };
    }
    if (sp.entry) entries[name] = sp.entry;
    stages.set(name, sp);
  }
  return { params, nodes, order, needed, stages, entries };
}

// What a queued point may ask of a worker. Anyone who can write to the queue's Redis can
// write a job, so the job is checked where it is submitted and again where it is built,
// before anything is read:
//   - it may set only params that are values, never a file or a URL: a param the
//     stage declares a file (fileParams: data.path, model.source as a path), a param whose
//     schema is a URL (data.url), and any string value that looks like a URL are refused;
//   - it names the data it expects by the sha256 of the training bytes: the worker reads
//     data only from its own configured sources (ENWIK9, the copy shipped in data/, its
//     default download) and fails the point when what it read differs;
//   - it names its submitter, whose heartbeat key in Redis must still be there: the points
//     of a submitter that died are not built later.

import type { Overrides, Pipeline } from '../engine/pipeline.ts';
import { QueueError } from './types.ts';

const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i;

/** Is this schema property a URL (a pattern or format saying so)? */
function urlSchema(prop: Record<string, unknown> | undefined): boolean {
  if (!prop) return false;
  return prop.format === 'uri' || prop.format === 'url' || (typeof prop.pattern === 'string' && /^\^?\(?https?/.test(prop.pattern));
}

/**
 * Why each param of these overrides may not travel in a job (empty: all may). Checks the
 * shape too: job data comes from Redis, not from our own parser.
 */
export function jobParamProblems(p: Pipeline, overrides: unknown): string[] {
  if (overrides === null || typeof overrides !== 'object' || Array.isArray(overrides)) return ['its overrides are not an object of stage params'];
  const out: string[] = [];
  let defaults: Record<string, Record<string, unknown>> | null = null;
  for (const [stage, ps] of Object.entries(overrides as Record<string, unknown>)) {
    const s = p.byName.get(stage);
    if (!s) {
      out.push(`unknown stage "${stage}"`);
      continue;
    }
    if (ps === null || typeof ps !== 'object' || Array.isArray(ps)) {
      out.push(`${stage}: its params are not an object`);
      continue;
    }
    for (const [param, v] of Object.entries(ps as Record<string, unknown>)) {
      const name = `${stage}.${param}`;
      const prop = s.schemas.params?.properties?.[param] as Record<string, unknown> | undefined;
      if (urlSchema(prop)) {
        out.push(`${name} is a URL (a job may not make a worker fetch anything)`);
        continue;
      }
      if (typeof v === 'string' && URL_LIKE.test(v)) {
        out.push(`${name}=${JSON.stringify(v.slice(0, 60))} is a URL (a job may not make a worker fetch anything)`);
        continue;
      }
      const { fileParams, keyParams } = s.def;
      if (!fileParams && !keyParams) continue;
      // A param the stage declares a file (StageDef.fileParams) names one; a stage that
      // declares none is judged by its keyParams: a param whose key form differs names a file.
      defaults ??= p.resolveAll({});
      const params = { ...defaults[stage], [param]: v } as never;
      let changed: boolean;
      try {
        changed = fileParams ? fileParams(params).includes(param) : JSON.stringify(keyParams!(params)[param]) !== JSON.stringify(v);
      } catch {
        changed = true;
      }
      if (changed) out.push(`${name}=${JSON.stringify(String(v).slice(0, 60))} names a file (a job may not make a worker read a path)`);
    }
  }
  return out;
}

/** What a point job must carry besides its params (see types.ts PointJob). */
export function jobShapeProblems(job: unknown): string[] {
  const j = job as Record<string, unknown> | null;
  if (!j || typeof j !== 'object') return ['it is not an object'];
  const out: string[] = [];
  if (typeof j.label !== 'string' || !j.label) out.push('it has no label');
  if (!Array.isArray(j.targets) || !j.targets.every((t) => typeof t === 'string')) out.push('its targets are not a list of stage names');
  const d = j.data as Record<string, unknown> | undefined;
  if (d !== undefined && (d === null || typeof d !== 'object' || typeof d.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(d.sha256))) {
    out.push('its data.sha256 is not 64 hex characters');
  }
  if (typeof j.submitter !== 'string' || !/^[0-9a-f]{16,64}$/.test(j.submitter)) out.push('it names no submitter');
  return out;
}

/** Throw one clear error when a point may not be queued or built. */
export function checkPointJob(p: Pipeline, job: { label?: unknown; overrides?: unknown }, where: 'submit' | 'worker', shape = false): void {
  const label = typeof job.label === 'string' ? job.label : '(unlabelled)';
  const problems = [...(shape ? jobShapeProblems(job) : []), ...jobParamProblems(p, job.overrides)];
  if (!problems.length) return;
  const hint =
    where === 'submit'
      ? 'a queued point may set only params that are values: each worker reads data from its own sources (its ENWIK9, the copy in data/); build file- or URL-sourced points without --queue'
      : 'the job was not built and nothing it names was read; submit points with `report --seeds/--sweep … --queue`';
  throw new QueueError('usage', `${where === 'worker' ? 'refused job' : 'cannot queue point'} ${label}: ${problems.join('; ')}`, hint);
}

/** The data params of a point, for grouping points that read the same bytes. */
export function dataParams(overrides: Overrides): string {
  return JSON.stringify(overrides.data ?? {});
}

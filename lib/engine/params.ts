// Params: typed, defaulted and validated at the boundary, frozen, recorded in the key.
// This file loads a stage's schemas, takes defaults from them, types `--set stage.p=v`
// values by `schemas/<stage>.params.json`, and resolves a stage's params. Checking against
// a schema is validate.ts (quickValid, then ajv).

import fs from 'node:fs';
import path from 'node:path';
import { checkParams } from './validate.ts';
import { EngineError } from './errors.ts';

// Re-exported for callers that import them with the other params functions.
export { checkOutput, checkParams } from './validate.ts';

/** What a param error is about, for the caller to word its hint (the CLI names --set, --help). */
export type ParamProblem = { kind: 'unknown-param' | 'invalid'; stage: string } | { kind: 'bad-value'; stage: string; param: string; expected: string };

export class ParamError extends EngineError {
  declare readonly reason: 'param';
  readonly problem?: ParamProblem;
  constructor(message: string, hint?: string, problem?: ParamProblem) {
    super('param', message, hint);
    if (problem) this.problem = problem;
  }
}

export interface Schemas {
  params: Record<string, any>;
  output: Record<string, any> | null;
}

export function schemaPaths(schemasDir: string, stage: string) {
  return {
    params: path.join(schemasDir, `${stage}.params.json`),
    output: path.join(schemasDir, `${stage}.output.json`),
  };
}

export function loadSchemas(schemasDir: string, stage: string): Schemas {
  const p = schemaPaths(schemasDir, stage);
  const read = (f: string, required: boolean) => {
    if (!fs.existsSync(f)) {
      if (required) throw new ParamError(`stage ${stage}: missing params schema ${f}`, `every stage needs schemas/${stage}.params.json (see docs/stages.md)`);
      return null;
    }
    try {
      return JSON.parse(fs.readFileSync(f, 'utf8'));
    } catch (e) {
      throw new ParamError(`stage ${stage}: ${f} is not valid JSON: ${(e as Error).message}`);
    }
  };
  return { params: read(p.params, true), output: read(p.output, false) };
}

/** The schema's defaults: `default` of each top-level property (a fresh copy). */
export function defaultsOf(schema: any): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, prop] of Object.entries<any>(schema?.properties ?? {})) {
    if (prop && typeof prop === 'object' && 'default' in prop) out[k] = structuredClone(prop.default);
  }
  return out;
}

/** Names of a stage's params, from its schema. */
export function paramNames(schema: any): string[] {
  return Object.keys(schema?.properties ?? {});
}

/**
 * Parse a `--set` value using the schema's type for that param. Arrays accept JSON or
 * comma-separated lists; `null` is accepted where the schema allows null.
 */
export function parseValue(stage: string, param: string, raw: string, prop: any): unknown {
  const types: string[] = Array.isArray(prop?.type) ? prop.type : prop?.type ? [prop.type] : [];
  const bad = (expected: string) =>
    new ParamError(`param ${stage}.${param}: expected ${expected}, got ${JSON.stringify(raw)} (string)`, undefined, { kind: 'bad-value', stage, param, expected });
  if (raw === 'null' && types.includes('null')) return null;
  if (types.includes('integer')) {
    if (!/^-?\d+$/.test(raw.trim())) throw bad('an integer');
    return Number(raw);
  }
  if (types.includes('number')) {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw bad('a number');
    return n;
  }
  if (types.includes('boolean')) {
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    throw bad('true or false');
  }
  if (types.includes('array')) {
    if (raw.trim().startsWith('[')) {
      try {
        return JSON.parse(raw);
      } catch {
        throw bad('a JSON array');
      }
    }
    const itemType = prop.items?.type;
    return raw.split(',').map((s) => (itemType === 'integer' || itemType === 'number' ? Number(s) : s));
  }
  return raw;
}

/**
 * Resolve one stage's params: defaults from the schema, then overrides; validate; freeze.
 * An unknown param is an error listing the valid ones. With no overrides the defaults are
 * taken as they are (a test checks every schema's defaults against the schema).
 */
export function resolveParams(stage: string, schema: any, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const names = paramNames(schema);
  for (const k of Object.keys(overrides)) {
    if (!names.includes(k)) {
      throw new ParamError(`unknown param "${stage}.${k}"\nvalid params of ${stage}: ${names.length ? names.join(', ') : '(none)'}`, undefined, { kind: 'unknown-param', stage });
    }
  }
  const value: Record<string, unknown> = { ...defaultsOf(schema), ...structuredClone(overrides) };
  if (Object.keys(overrides).length) {
    const err = checkParams(stage, schema, value);
    if (err) throw new ParamError(`invalid params for stage ${stage}:\n${err}`, undefined, { kind: 'invalid', stage });
  }
  return Object.freeze(value);
}

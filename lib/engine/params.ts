// Params: typed, defaulted and validated at the boundary, frozen, recorded in the key.
// Each stage's params are described by `schemas/<stage>.params.json`; `--set stage.p=v`
// values are typed by that schema. JSON outputs are checked against
// `schemas/<stage>.output.json` on write and on read.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { ValidateFunction, ErrorObject } from 'ajv';

const require = createRequire(import.meta.url);

export class ParamError extends Error {
  readonly reason = 'param';
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
      if (required) throw new ParamError(`stage ${stage}: missing params schema ${f}\nhint: every stage needs schemas/${stage}.params.json (see docs/stages.md)`);
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

// ajv is loaded only when a schema has to be compiled: loading it costs ~17 ms and
// compiling the 15 params schemas ~35 ms, a fifth of a no-op run. So defaults come
// straight from the schemas (`default` of each top-level property), and a stage's schema
// is compiled only when that stage has overrides to check. Nothing is generated into the
// cache: a cache holds data, never code that every command would import.
const ajvCache = new WeakMap<object, ValidateFunction>();
let ajv: any = null;
function compile(schema: object): ValidateFunction {
  let f = ajvCache.get(schema);
  if (!f) {
    if (!ajv) {
      const m = require('ajv');
      const Ajv = m.default ?? m;
      ajv = new Ajv({ allErrors: true, strict: false });
    }
    f = ajv.compile(schema) as ValidateFunction;
    ajvCache.set(schema, f);
  }
  return f;
}

/** The schema's defaults: `default` of each top-level property (a fresh copy). */
export function defaultsOf(schema: any): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, prop] of Object.entries<any>(schema?.properties ?? {})) {
    if (prop && typeof prop === 'object' && 'default' in prop) out[k] = structuredClone(prop.default);
  }
  return out;
}

/** Check a params object (defaults included) against the schema; null when valid. */
export function checkParams(stage: string, schema: any, value: Record<string, unknown>): string | null {
  const validate = compile(schema);
  return validate(value) ? null : describe(validate.errors, stage, value);
}

function valueAt(data: unknown, pointer: string): unknown {
  let v: any = data;
  for (const part of pointer.split('/').slice(1)) v = v?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  return v;
}

/** ajv errors as "where: what, got X (type)" lines; enums list their values. */
function describe(errors: ErrorObject[] | null | undefined, root: string, data?: unknown): string {
  return (errors ?? [])
    .map((e) => {
      const where = `${root}${e.instancePath.replace(/\//g, '.')}`;
      if (e.keyword === 'additionalProperties') return `${where}: unknown key "${(e.params as any).additionalProperty}"`;
      const got = valueAt(data, e.instancePath);
      const gotText = data === undefined ? '' : `, got ${JSON.stringify(got)} (${got === null ? 'null' : typeof got})`;
      if (e.keyword === 'enum') return `${where}: expected one of ${(e.params as any).allowedValues.map((x: unknown) => JSON.stringify(x)).join(', ')}${gotText}`;
      return `${where}: ${e.message}${gotText}`;
    })
    .join('\n');
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
    new ParamError(`param ${stage}.${param}: expected ${expected}, got ${JSON.stringify(raw)} (string)\nhint: --set ${stage}.${param}=<${expected}>`);
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
      throw new ParamError(
        `unknown param "${stage}.${k}"\nvalid params of ${stage}: ${names.length ? names.join(', ') : '(none)'}\nhint: npx tsx pipeline.ts --help lists every stage's params`,
      );
    }
  }
  const value: Record<string, unknown> = { ...defaultsOf(schema), ...structuredClone(overrides) };
  if (Object.keys(overrides).length) {
    const err = checkParams(stage, schema, value);
    if (err) throw new ParamError(`invalid params for stage ${stage}:\n${err}\nhint: npx tsx pipeline.ts --help lists every param with its default and description`);
  }
  return Object.freeze(value);
}

/** Validate a JSON output against the stage's output schema (no defaults filled). */
export function checkOutput(stage: string, schema: any, json: unknown, when: 'write' | 'read'): string | null {
  if (!schema) return null;
  const validate = compile(schema);
  if (validate(json)) return null;
  return `stage ${stage}: JSON output fails schemas/${stage}.output.json on ${when}:\n${describe(validate.errors, 'output', json)}`;
}

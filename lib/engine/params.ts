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
// straight from the schemas (`default` of each top-level property), a stage's params are
// checked only when it has overrides, and then by quickValid below unless that cannot say
// "valid". Nothing is generated into the
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

// The small part of JSON Schema that params schemas use, checked without ajv: `--set
// train.hidden=8` should not cost ajv's ~50 ms of loading and compiling. It answers only
// "valid" when every keyword it meets is one it knows and holds; anything else ("invalid",
// or a keyword it does not know) goes to ajv, which gives the verdict and the messages.
// So it can only be wrong by accepting what ajv rejects, and a test compares the two on
// every project schema with values around each bound.
const ANNOTATIONS = new Set(['$schema', 'title', 'description', 'default', '$comment', 'examples']);
const TYPES: Record<string, (x: unknown) => boolean> = {
  integer: (x) => typeof x === 'number' && Number.isInteger(x),
  number: (x) => typeof x === 'number' && Number.isFinite(x),
  string: (x) => typeof x === 'string',
  boolean: (x) => typeof x === 'boolean',
  null: (x) => x === null,
  array: (x) => Array.isArray(x),
  object: (x) => typeof x === 'object' && x !== null && !Array.isArray(x),
};

/** true: valid; false: invalid or not understood (ask ajv). */
export function quickValid(schema: any, x: unknown): boolean {
  if (schema === true) return true;
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return false;
  for (const [k, v] of Object.entries<any>(schema)) {
    if (ANNOTATIONS.has(k)) continue;
    switch (k) {
      case 'type': {
        const ts: unknown[] = Array.isArray(v) ? v : [v];
        if (!ts.some((t) => typeof t === 'string' && TYPES[t]?.(x))) return false;
        break;
      }
      case 'enum':
        if (!Array.isArray(v) || x === null || typeof x === 'object' || !v.includes(x)) return false;
        break;
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        if (typeof v !== 'number') return false;
        if (typeof x === 'number') {
          if (k === 'minimum' && !(x >= v)) return false;
          if (k === 'maximum' && !(x <= v)) return false;
          if (k === 'exclusiveMinimum' && !(x > v)) return false;
          if (k === 'exclusiveMaximum' && !(x < v)) return false;
        }
        break;
      case 'minLength':
      case 'maxLength':
        if (typeof v !== 'number') return false;
        if (typeof x === 'string') {
          const n = [...x].length;
          if (k === 'minLength' ? n < v : n > v) return false;
        }
        break;
      case 'pattern':
        if (typeof v !== 'string') return false;
        if (typeof x === 'string' && !new RegExp(v, 'u').test(x)) return false;
        break;
      case 'items':
        if (Array.isArray(v)) return false;
        if (Array.isArray(x) && !x.every((e) => quickValid(v, e))) return false;
        break;
      case 'required':
        if (!Array.isArray(v)) return false;
        if (TYPES.object(x) && !v.every((r) => Object.hasOwn(x as object, r))) return false;
        break;
      case 'properties':
        if (!TYPES.object(v)) return false;
        if (TYPES.object(x)) {
          for (const [p, sub] of Object.entries(v)) if (Object.hasOwn(x as object, p) && !quickValid(sub, (x as any)[p])) return false;
        }
        break;
      case 'additionalProperties':
        if (v === false) {
          if (TYPES.object(x) && Object.keys(x as object).some((p) => !Object.hasOwn(schema.properties ?? {}, p))) return false;
        } else if (v !== true) return false;
        break;
      default:
        return false; // a keyword this checker does not know
    }
  }
  return true;
}

/** Check a params object (defaults included) against the schema; null when valid. */
export function checkParams(stage: string, schema: any, value: Record<string, unknown>): string | null {
  if (quickValid(schema, value)) return null;
  const validate = compile(schema);
  return validate(value) ? null : describe(validate.errors, stage, value);
}

/** ajv's verdict alone (for tests comparing it with quickValid). */
export function ajvValid(schema: any, value: unknown): boolean {
  return compile(schema)(value) as boolean;
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

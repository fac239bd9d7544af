// Checking values against JSON Schemas: a stage's params (quickValid first, ajv when it
// cannot say "valid") and its JSON outputs against `schemas/<stage>.output.json` on write
// and on read, with ajv's errors turned into "where: what, got X (type)" lines.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { ValidateFunction, ErrorObject } from 'ajv';
import { canonicalJson, sha256 } from './keep/hash.ts';

const require = createRequire(import.meta.url);

// ajv is loaded only when a schema has to be compiled: loading it costs ~17 ms and
// compiling the 15 params schemas ~35 ms, a fifth of a no-op run. So defaults come
// straight from the schemas (`default` of each top-level property), a stage's params are
// checked only when it has overrides, and then by quickValid (below) unless that cannot say
// "valid". Nothing is generated into the cache: a cache holds data, never code that every
// command would import.
//
// Output schemas are big (all of them: ~0.4 s of CPU to compile, in every process that
// checks outputs), so each has its validator compiled ahead of time into the project
// (schemas/validators/<stage>.output.cjs, `npm run schemas`: ajv's standalone code and the
// sha256 of the schema it was made from). One is used only when that hash is the schema's
// in hand; a stale or missing file means ajv compiles the schema, as before: slower, never wrong.

/** The options every validator is compiled with (schemas/validators.ts uses the same). */
export const AJV_OPTIONS = { allErrors: true, strict: false } as const;

/** The hash a compiled-ahead validator carries: sha256 of the schema's canonical JSON. */
export function schemaHash(schema: unknown): string {
  return sha256(canonicalJson(schema));
}

let standaloneDir: string | null = null;
/** Where compiled-ahead output validators are (<schemas>/validators); set by the project. */
export function useStandaloneValidators(dir: string | null): void {
  standaloneDir = dir;
}

const ajvCache = new WeakMap<object, ValidateFunction>();
let ajv: any = null;
function compile(schema: object, stage?: string): ValidateFunction {
  let f = ajvCache.get(schema) ?? (stage ? standalone(schema, stage) : undefined);
  if (!f) {
    if (!ajv) {
      const m = require('ajv');
      const Ajv = m.default ?? m;
      ajv = new Ajv({ ...AJV_OPTIONS });
    }
    f = ajv.compile(schema) as ValidateFunction;
  }
  ajvCache.set(schema, f);
  return f;
}

/** The compiled-ahead validator of this stage's output schema, if there is one made from this very schema. */
function standalone(schema: object, stage: string): ValidateFunction | undefined {
  if (!standaloneDir) return undefined;
  const file = path.join(standaloneDir, `${stage}.output.cjs`);
  if (!fs.existsSync(file)) return undefined;
  try {
    const m = require(file);
    return typeof m === 'function' && m.schemaHash === schemaHash(schema) ? (m as ValidateFunction) : undefined;
  } catch {
    return undefined;
  }
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

/** Validate a JSON output against the stage's output schema (no defaults filled). */
export function checkOutput(stage: string, schema: any, json: unknown, when: 'write' | 'read'): string | null {
  if (!schema) return null;
  const validate = compile(schema, stage);
  if (validate(json)) return null;
  return `stage ${stage}: JSON output fails schemas/${stage}.output.json on ${when}:\n${describe(validate.errors, 'output', json)}`;
}

// ---- quickValid ----
// The in-memory quick checker (quickValid): the small part of JSON Schema that params
// schemas use, checked without ajv (checkParams asks ajv when this cannot say "valid"): `--set
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

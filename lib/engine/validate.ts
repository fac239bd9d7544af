// Checking values against JSON Schemas: a stage's params (quickValid first, ajv when it
// cannot say "valid") and its JSON outputs against `schemas/<stage>.output.json` on write
// and on read, with ajv's errors turned into "where: what, got X (type)" lines.

import { createRequire } from 'node:module';
import type { ValidateFunction, ErrorObject } from 'ajv';
import { quickValid } from './params-check.ts';

const require = createRequire(import.meta.url);

// ajv is loaded only when a schema has to be compiled: loading it costs ~17 ms and
// compiling the 15 params schemas ~35 ms, a fifth of a no-op run. So defaults come
// straight from the schemas (`default` of each top-level property), a stage's params are
// checked only when it has overrides, and then by quickValid (params-check.ts) unless that cannot say
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
  const validate = compile(schema);
  if (validate(json)) return null;
  return `stage ${stage}: JSON output fails schemas/${stage}.output.json on ${when}:\n${describe(validate.errors, 'output', json)}`;
}

// Params: typed, defaulted and validated at the boundary, frozen, recorded in the key.
// Each stage's params are described by `schemas/<stage>.params.json`; `--set stage.p=v`
// values are typed by that schema. JSON outputs are checked against
// `schemas/<stage>.output.json` on write and on read.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { ValidateFunction, ErrorObject } from 'ajv';
import { canonicalJson, sha256 } from './hash.ts';

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

// ajv is loaded only when a schema has to be compiled: importing and compiling cost
// ~100 ms, most of a no-op run's engine time. Params validators are compiled once per
// set of schemas into standalone code (ajv's own code generator) kept in the cache.
const ajvCache = new WeakMap<object, ValidateFunction>();
let ajvs: { defaults: any; plain: any } | null = null;
function newAjv(opts: object) {
  const m = require('ajv');
  const Ajv = m.default ?? m;
  return new Ajv({ allErrors: true, strict: false, ...opts });
}
function compile(schema: object, defaults: boolean): ValidateFunction {
  let f = ajvCache.get(schema);
  if (!f) {
    ajvs ??= { defaults: newAjv({ useDefaults: true }), plain: newAjv({}) };
    f = (defaults ? ajvs.defaults : ajvs.plain).compile(schema) as ValidateFunction;
    ajvCache.set(schema, f);
  }
  return f;
}

/**
 * Params validators for many stages at once, as one generated ESM module in
 * `<cacheDir>/validators/params-<hash>.mjs` (hash of the schemas and the ajv version).
 * Falls back to compiling in memory when the cache cannot be written.
 */
export async function paramValidators(schemas: Record<string, object>, cacheDir: string): Promise<Record<string, ValidateFunction>> {
  const names = Object.keys(schemas).sort();
  const ajvVersion: string = require('ajv/package.json').version;
  // The module imports ajv's runtime by absolute path (below), so the file is per ajv
  // location too: a moved checkout, or another one sharing the cache, makes its own.
  const ajvDir = path.dirname(require.resolve('ajv/package.json'));
  const hash = sha256(canonicalJson({ ajvVersion, ajvDir, schemas, format: 2 })).slice(0, 32);
  const file = path.join(cacheDir, 'validators', `params-${hash}.mjs`);
  if (!fs.existsSync(file)) {
    try {
      const ajv = newAjv({ useDefaults: true, code: { source: true, esm: true } });
      const exportsMap: Record<string, string> = {};
      names.forEach((n, i) => {
        ajv.addSchema(schemas[n], `stage-${i}`);
        exportsMap[`v${i}`] = `stage-${i}`;
      });
      const sa = require('ajv/dist/standalone');
      let code: string = (sa.default ?? sa)(ajv, exportsMap);
      // The generated code imports ajv's small runtime helpers by package name; make those
      // absolute so the module loads wherever the cache lives.
      // (ajv emits `require("ajv/dist/runtime/…")` even in ESM mode: turn each into an import.)
      const imports: string[] = [];
      code = code.replace(/require\((["'])(ajv\/dist\/runtime\/[^"']+)\1\)/g, (_m, _q, spec: string) => {
        const id = `__ajvRuntime${imports.length}`;
        // Loaders differ in how a CJS module's default import looks (module.exports, or its
        // `default` when __esModule is set); normalise to module.exports either way.
        imports.push(
          `import * as ${id}Ns from ${JSON.stringify(pathToFileURL(require.resolve(spec)).href)};\n` +
            `const ${id} = ${id}Ns.default && ${id}Ns.default.default ? ${id}Ns.default : ${id}Ns;`,
        );
        return id;
      });
      code = code.replace(/^"use strict";/, '');
      code = imports.join('\n') + '\n' + code;
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const tmp = `${file}.tmp-${process.pid}`;
      fs.writeFileSync(tmp, code);
      fs.renameSync(tmp, file);
    } catch {
      return Object.fromEntries(names.map((n) => [n, compile(schemas[n], true)]));
    }
  }
  try {
    const mod = await import(pathToFileURL(file).href);
    return Object.fromEntries(names.map((n, i) => [n, mod[`v${i}`] as ValidateFunction]));
  } catch {
    return Object.fromEntries(names.map((n) => [n, compile(schemas[n], true)]));
  }
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
 * An unknown param is an error listing the valid ones.
 */
export function resolveParams(stage: string, schema: any, overrides: Record<string, unknown> = {}, validator?: ValidateFunction): Record<string, unknown> {
  const names = paramNames(schema);
  for (const k of Object.keys(overrides)) {
    if (!names.includes(k)) {
      throw new ParamError(
        `unknown param "${stage}.${k}"\nvalid params of ${stage}: ${names.length ? names.join(', ') : '(none)'}\nhint: npx tsx pipeline.ts --help lists every stage's params`,
      );
    }
  }
  const value: Record<string, unknown> = structuredClone(overrides);
  const validate = validator ?? compile(schema, true);
  if (!validate(value)) {
    throw new ParamError(`invalid params for stage ${stage}:\n${describe(validate.errors, stage, value)}\nhint: npx tsx pipeline.ts --help lists every param with its default and description`);
  }
  return Object.freeze(value);
}

/** Validate a JSON output against the stage's output schema (no defaults filled). */
export function checkOutput(stage: string, schema: any, json: unknown, when: 'write' | 'read'): string | null {
  if (!schema) return null;
  const validate = compile(schema, false);
  if (validate(json)) return null;
  return `stage ${stage}: JSON output fails schemas/${stage}.output.json on ${when}:\n${describe(validate.errors, 'output', json)}`;
}

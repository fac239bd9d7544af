// Params validation without ajv on the common path: quickValid (a small checker of the
// keywords params schemas use) against ajv, its reference, on every project schema.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultsOf, loadSchemas } from '../../lib/engine/params.ts';
import { ajvValid, quickValid } from '../../lib/engine/validate.ts';

const schemasDir = path.resolve(import.meta.dirname, '../../schemas');
const stages = fs.readdirSync(schemasDir).filter((f) => f.endsWith('.params.json')).map((f) => f.slice(0, -'.params.json'.length));

/** Values around every bound and type of a property. */
function probes(prop: any): unknown[] {
  const out: unknown[] = [null, true, false, 0, -1, 1, 1.5, -0.5, 1e9, '', 'x', 'abc', [], [1, 2], ['a'], {}, Number.NaN, Infinity];
  for (const k of ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum']) {
    if (typeof prop[k] === 'number') out.push(prop[k], prop[k] - 1, prop[k] + 1, prop[k] - 0.5, prop[k] + 0.5);
  }
  if (Array.isArray(prop.enum)) out.push(...prop.enum, `${prop.enum[0]}x`);
  if (typeof prop.minLength === 'number') out.push('a'.repeat(prop.minLength), 'a'.repeat(Math.max(0, prop.minLength - 1)));
  if ('default' in prop) out.push(prop.default);
  if (prop.items) out.push([0], [-1], [1, 2, 3], [0.5], ['1']);
  return out;
}

describe('params checked without ajv', () => {
  it('never accepts what ajv rejects, on every project schema, and accepts the defaults', () => {
    let accepted = 0;
    let tried = 0;
    for (const s of stages) {
      const schema = loadSchemas(schemasDir, s).params;
      const d = defaultsOf(schema);
      expect(quickValid(schema, d), s).toBe(true); // the common path never loads ajv
      for (const [k, prop] of Object.entries<any>(schema.properties ?? {})) {
        for (const v of probes(prop)) {
          const value = { ...d, [k]: v };
          const q = quickValid(schema, value);
          const a = ajvValid(schema, value);
          tried++;
          if (q) {
            accepted++;
            expect(a, `${s}.${k} = ${JSON.stringify(v)}`).toBe(true);
          }
        }
      }
      expect(quickValid(schema, { ...d, notAParam: 1 })).toBe(false);
    }
    expect(tried).toBeGreaterThan(300);
    expect(accepted).toBeGreaterThan(20);
  });

  it('a keyword it does not know sends the value to ajv', () => {
    expect(quickValid({ type: 'object', properties: { a: { type: 'integer', multipleOf: 2 } } }, { a: 4 })).toBe(false);
    expect(quickValid({ type: 'object', properties: { a: { type: 'integer', minimum: 1 } }, additionalProperties: false }, { a: 4 })).toBe(true);
    expect(quickValid({ type: 'object', properties: { a: { type: 'integer', minimum: 1 } } }, { a: 0 })).toBe(false);
  });
});

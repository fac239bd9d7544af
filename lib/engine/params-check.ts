// The in-memory quick checker (quickValid): the small part of JSON Schema that params
// schemas use, checked without ajv (validate.ts asks ajv when this cannot say "valid"): `--set
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

// Output validators compiled ahead of time (schemas/validators/, `npm run schemas`): each is
// up to date with its schema, agrees with ajv, and one made from another schema is never used.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { expectedValidators } from '../../schemas/validators.ts';
import { checkOutput, schemaHash, useStandaloneValidators } from '../../lib/engine/validate.ts';

const require = createRequire(import.meta.url);
const schemas = fileURLToPath(new URL('../../schemas/', import.meta.url));

describe('compiled-ahead output validators', () => {
  it('every file in schemas/validators/ is what `npm run schemas` writes for today\'s schema', () => {
    const stale = expectedValidators().filter(([, file, text]) => !fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text).map(([stage]) => stage);
    expect(stale, 'run npm run schemas').toEqual([]);
  }, 30000);

  it('a compiled-ahead validator gives ajv\'s verdict and messages, and a changed schema never uses it', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(schemas, 'data.output.json'), 'utf8'));
    const bad = { nonsense: true };
    useStandaloneValidators(null);
    const ajvSays = checkOutput('data', structuredClone(schema), bad, 'write');
    useStandaloneValidators(path.join(schemas, 'validators'));
    expect(require(path.join(schemas, 'validators/data.output.cjs')).schemaHash).toBe(schemaHash(schema));
    expect(checkOutput('data', schema, bad, 'write')).toBe(ajvSays);
    expect(ajvSays).toMatch(/fails schemas\/data\.output\.json/);
    // The same stage name with another schema: the file's hash is not this schema's, so ajv decides.
    const changed = { type: 'object', required: ['only'], properties: { only: { type: 'string' } } };
    expect(checkOutput('data', changed, { only: 'x' }, 'write')).toBeNull();
    expect(checkOutput('data', structuredClone(changed), { only: 1 }, 'write')).toMatch(/output\.only: must be string/);
  });
});

// Each stage's output validator, compiled ahead of time: for every schemas/<stage>.output.json
// this writes schemas/validators/<stage>.output.cjs, ajv's standalone code for that schema
// (the options lib/engine/validate.ts compiles with) and the sha256 of the schema it was
// made from. validate.ts uses a file only when that hash is the schema's in hand, else it
// compiles the schema with ajv: a stale file is never used, only slower. A process that
// checks outputs then spares loading ajv and compiling (~20 ms a schema, ~0.4 s of CPU for
// all of them). test/engine/validators.test.ts fails when a file is out of date.
//   npm run schemas        (after editing a schema)

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { AJV_OPTIONS, schemaHash } from '../lib/engine/validate.ts';

const dir = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** [stage, generated path, expected content] for every output schema. */
export function expectedValidators(): [string, string, string][] {
  const m = require('ajv');
  const Ajv = m.default ?? m;
  const standaloneCode = require('ajv/dist/standalone').default;
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.output.json'))
    .sort()
    .map((f) => {
      const stage = f.slice(0, -'.output.json'.length);
      const schema = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
      const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true } });
      const code = standaloneCode(ajv, ajv.compile(schema));
      const text = `// Generated from schemas/${f} by \`npm run schemas\`: edit the JSON, not this file.\n${code}\nmodule.exports.schemaHash = ${JSON.stringify(schemaHash(schema))};\n`;
      return [stage, path.join(dir, 'validators', `${stage}.output.cjs`), text];
    });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  fs.mkdirSync(path.join(dir, 'validators'), { recursive: true });
  for (const [, file, text] of expectedValidators()) {
    const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
    if (old !== text) {
      fs.writeFileSync(file, text);
      console.log(`wrote ${path.relative(process.cwd(), file)}`);
    }
  }
}

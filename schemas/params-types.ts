// Each stage's params type, derived from its JSON Schema (the one source of truth):
// for every schemas/<stage>.params.json this writes schemas/<stage>.params.ts holding the
// same schema `as const` and `type Params = FromSchema<typeof schema>` (json-schema-to-ts),
// which the stage file imports. test/schemas.test.ts fails when a generated file is out of
// date, so the JSON and the TypeScript cannot drift.
//   npm run schemas        (after editing a params schema)

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));

/** The generated module for one params schema (its JSON text). */
export function paramsModule(stage: string, jsonText: string): string {
  const schema = JSON.stringify(JSON.parse(jsonText), null, 2);
  return (
    `// Generated from schemas/${stage}.params.json by \`npm run schemas\`: edit the JSON, not this file.\n` +
    `import type { FromSchema } from 'json-schema-to-ts';\n\n` +
    `export const schema = ${schema} as const;\n\n` +
    `export type Params = FromSchema<typeof schema>;\n`
  );
}

/** [stage, generated path, expected content] for every params schema. */
export function expectedModules(): [string, string, string][] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.params.json'))
    .sort()
    .map((f) => {
      const stage = f.slice(0, -'.params.json'.length);
      return [stage, path.join(dir, `${stage}.params.ts`), paramsModule(stage, fs.readFileSync(path.join(dir, f), 'utf8'))];
    });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const [, file, text] of expectedModules()) {
    const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
    if (old !== text) {
      fs.writeFileSync(file, text);
      console.log(`wrote ${path.relative(process.cwd(), file)}`);
    }
  }
}

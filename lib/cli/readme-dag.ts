// `npm run readme:dag`: rewrites the stage graph in README.md from the graph in force with
// default params (what `npx tsx pipeline.ts dag` prints), so the picture cannot drift from
// the stages. test/docs/readme-dag.test.ts fails when README.md is stale.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pipeline } from '../engine/pipeline.ts';
import { mermaidCompact, withReadmeDag } from './help.ts';

/** The README's graph for the project at `root` with these stage files. */
export async function readmeGraph(root: string, stageFiles: string[]): Promise<string> {
  const p = await Pipeline.load({ root, stageFiles });
  return mermaidCompact(p, p.resolveAll({}));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const { STAGES } = await import('../../pipeline.ts');
  const file = path.join(root, 'README.md');
  const before = fs.readFileSync(file, 'utf8');
  const after = withReadmeDag(before, await readmeGraph(root, STAGES));
  if (after !== before) fs.writeFileSync(file, after);
  console.log(after === before ? 'README.md: the graph is current' : 'README.md: graph rewritten');
}

// The README's stage graph is generated (`npm run readme:dag`); this fails when a stage or an
// input changed and the picture was not regenerated.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { STAGES } from '../../pipeline.ts';
import { readmeGraph } from '../../lib/cli/readme-dag.ts';
import { withReadmeDag } from '../../lib/cli/help.ts';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

describe("README's stage graph", () => {
  it('is the graph in force (else: npm run readme:dag)', async () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const graph = await readmeGraph(root, STAGES);
    expect(graph).toMatch(/^flowchart LR\n  data\n  data --> train\n/);
    expect(withReadmeDag(readme, graph) === readme, 'README.md is stale: run npm run readme:dag').toBe(true);
  });

  it('the check can fail: an edited graph is told apart, and a README without the markers is an error', () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const edited = withReadmeDag(readme, 'flowchart LR\n  data --> report\n');
    expect(edited).not.toBe(readme);
    expect(withReadmeDag(edited, 'flowchart LR\n  data --> report\n')).toBe(edited);
    expect(() => withReadmeDag('# no graph here\n', 'flowchart LR\n')).toThrow(/has no graph block/);
  });
});

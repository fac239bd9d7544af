import { describe, expect, it } from 'vitest';
import { findCycle, topoSort, upstreamClosure, validateGraph } from '../../lib/engine/decide/graph.ts';

const g = (o: Record<string, string[]>) => Object.entries(o).map(([name, inputs]) => ({ name, inputs }));

describe('graph', () => {
  it('a cycle error prints its path a -> b -> a', () => {
    expect(() => validateGraph(g({ a: ['b'], b: ['a'] }))).toThrow(/cycle in the stage graph: (a -> b -> a|b -> a -> b)/);
    expect(findCycle(g({ x: [], a: ['c'], b: ['a'], c: ['b'] }))).toHaveLength(4);
    expect(findCycle(g({ a: [], b: ['a'], c: ['a', 'b'] }))).toBeNull();
    expect(findCycle(g({ a: ['a'] }))).toEqual(['a', 'a']);
  });
  it('an unknown input and a duplicate name are load errors', () => {
    expect(() => validateGraph(g({ a: ['zz'] }))).toThrow(/stage "a" declares unknown input "zz"\nvalid stages: a/);
    expect(() => validateGraph([{ name: 'a', inputs: [] }, { name: 'a', inputs: [] }])).toThrow(/duplicate stage name "a"/);
  });
  it('upstream closure lists inputs before consumers and only what is needed', () => {
    const nodes = g({ data: [], train: ['data'], model: ['train'], trace: ['model', 'data'], other: ['data'] });
    expect(upstreamClosure(nodes, ['trace'])).toEqual(['data', 'train', 'model', 'trace']);
    expect(topoSort(nodes)).toEqual(['data', 'train', 'model', 'trace', 'other']);
    expect(() => upstreamClosure(nodes, ['nope'])).toThrow(/unknown stage "nope"/);
  });
});

import { describe, expect, it } from 'vitest';
import { overrideList, provenanceLine, provenanceOf, reportLabel, unlabelledOverrides, withViewerLink } from '../../lib/report/build.ts';
import { diffReports, renderDiff } from '../../lib/report/diff.ts';
import { recipeLine, referenceLine } from '../../lib/report/audit.ts';
import type { StageOutput } from '../../lib/engine/types.ts';

const out = (json: any): StageOutput => ({ json, tensors: {}, key: 'k', outputHash: 'h' });
const inputs = {
  model: out({ source: 'train', H: 128, train: { optimizer: 'adam', epochs: 4000, seed: 42 } }),
  data: out({ bytes: 1024 }),
};

describe('report labels', () => {
  it('spell out the model and data, then any other non-default params in words, or a hash where words would be lossy', () => {
    expect(reportLabel(inputs, {})).toBe('train-h128-adam-e4000-seed42-n1024');
    expect(reportLabel(inputs, { train: { seed: 42 }, data: { bytes: 1024, path: '/x' } })).toBe('train-h128-adam-e4000-seed42-n1024');
    const a = reportLabel(inputs, { influence: { maxOffset: 40 } });
    const b = reportLabel(inputs, { influence: { maxOffset: 30 } });
    expect(a).toBe('train-h128-adam-e4000-seed42-n1024-influence.maxOffset=40');
    expect(a).not.toBe(b);
    expect(unlabelledOverrides({ model: { source: 'w.bin' }, train: { bptt: 20, seed: 1 }, report: { label: 'x' } })).toEqual({ train: { bptt: 20 } });
    // a reference report adds a column to the same analysis: same label
    expect(reportLabel(inputs, { report: { reference: 'import-sat_model-n1024' } })).toBe('train-h128-adam-e4000-seed42-n1024');
    expect(reportLabel(inputs, { train: { init: 'mulberry32', evalEvery: 5 } })).toBe('train-h128-adam-e4000-seed42-n1024-evalEvery=5-init=mulberry32');
    // a value words cannot carry losslessly, or too many words: a hash
    expect(reportLabel(inputs, { train: { init: 'a b/c' } })).toMatch(/^train-h128-adam-e4000-seed42-n1024-p[0-9a-f]{8}$/);
    expect(reportLabel(inputs, { influence: { maxOffset: 40, a1234567890: 1, b1234567890: 2, c1234567890: 3 } })).toMatch(/-p[0-9a-f]{8}$/);
    expect(overrideList({ b: { y: 'txt' }, a: { x: [1, 2] } })).toEqual(['a.x=[1,2]', 'b.y=txt']);
  });
});

describe('the recipe and reference lines', () => {
  it('name the recipe, the epochs and where they came from', () => {
    const t = {
      optimizer: 'sgd', init: 'glibc', epochs: 62, seed: 42, predictions: 62 * 65535, epochsFrom: 'predictions',
      recipe: { name: "the authors' released trainer (sgd + glibc init)", lrSchedule: 'cosine: …/62' },
    };
    expect(recipeLine(t)).toBe("the authors' released trainer (sgd + glibc init), 62 epochs (4063170 predictions, from train.predictions), seed 42, lr cosine: …/62");
    // a train output from before the recipe was recorded
    expect(recipeLine({ optimizer: 'adam', epochs: 4000, seed: 42 })).toBe('adam, 4000 epochs, seed 42');
  });

  it("say where the paper's-weights column comes from, or how to add it", () => {
    expect(referenceLine(null)).toMatch(/add it with `TOTAL_INTERP_PAPER_WEIGHTS=FILE npx tsx pipeline.ts report`.*`--set model.source=paper`/);
    expect(referenceLine({ label: 'import-sat_model-n1024' } as any)).toMatch(/from the report `import-sat_model-n1024`/);
  });
});

describe('provenance in the report', () => {
  const imported = (name: string, dataProv: Record<string, unknown>) => ({
    model: { ...out({ source: 'import', sha256: 'ab'.repeat(32), H: 128, paramCount: 82304 }), provenance: { name } },
    data: { ...out({ bytes: 1024, sha256: 'cd'.repeat(32) }), provenance: dataProv },
  });

  it('names the data and the weights as the run that built them read them, and labels the report by the weights name', () => {
    const ins = imported('paper:sat_model.bin', { source: 'file', name: 'enwik_1024.txt', entry: null });
    expect(provenanceOf(ins)).toEqual({ data: { source: 'file', name: 'enwik_1024.txt', entry: null }, model: { name: 'paper:sat_model.bin' } });
    expect(provenanceLine(provenanceOf(ins))).toMatch(/^Provenance: data read from file `enwik_1024\.txt`; weights read from `paper:sat_model\.bin` \(results are keyed by content/);
    expect(reportLabel(ins, {})).toBe('import-paper-sat_model-n1024');
    // a model trained here has no weights name
    expect(provenanceOf({ ...inputs, data: ins.data }).model).toBeNull();
  });

  it('diff: two reports that differ only in provenance show one provenance line and no change', () => {
    const doc = (p: unknown) => ({ label: 'x', model: { source: 'import' }, data: { bytes: 1024, sha256: 's' }, tables: {}, metrics: { m: { value: 1 } as any }, provenance: p });
    const a = doc({ data: { source: 'embedded', name: 'enwik9-head-1024.txt', entry: null }, model: { name: 'paper:sat_model.bin' } });
    const b = doc({ data: { source: 'file', name: 'enwik_1024.txt', entry: null }, model: { name: 'weights.bin' } });
    const d = diffReports(a, b);
    expect([d.metrics, d.tables]).toEqual([[], []]);
    expect(renderDiff(d).split('\n')[1]).toBe('provenance (not a change): data embedded enwik9-head-1024.txt, weights paper:sat_model.bin -> data file enwik_1024.txt, weights weights.bin');
    expect(diffReports(a, a).provenance).toBeNull();
  });
});

describe('report rows link to the viewer', () => {
  const table = (id: string, labels: string[]) => ({ id, title: id, section: '§5', positions: 't', columns: [{ key: 'c', label: 'C' }], rows: labels.map((c) => ({ c })), rowStatus: labels.map(() => '') }) as any;
  it('the §5.4 decomposition to its position and top units, a pattern table to its unit, other tables not at all', () => {
    const dec = withViewerLink(table('pos29_decomposition', ['Carrier', 'h8: Wy[o][j]·δ[j]', 'h3: Wy[o][j]·δ[j]']), 'viewer.html', 29);
    expect(dec.notes).toEqual(['In the viewer: [t = 29](viewer.html#t=29); its top units [h8](viewer.html#t=29&unit=8), [h3](viewer.html#t=29&unit=3).']);
    expect(withViewerLink(table('pattern_table_h12', ['start']), 'viewer.html', 29).notes?.[0]).toMatch(/^In the viewer: \[h12\]\(viewer\.html#unit=12\)/);
    const other = table('skipgram', ['a']);
    expect(withViewerLink(other, 'viewer.html', 29)).toBe(other);
  });
});

// bench/scale's flags (it runs in pieces: a size, or a few stages, at a time) and its
// growth exponent, without running a stage.
import { describe, expect, it } from 'vitest';
import { growth, parseArgs, SIZES } from '../../bench/scale.bench.ts';

describe('bench/scale arguments', () => {
  it('--sizes, --stages, --dir and --again; the positional form as before; defaults', () => {
    expect(parseArgs([])).toEqual({ sizes: SIZES, stages: [], dir: null, again: false });
    expect(parseArgs(['--sizes', '65536', '--stages', 'trace,kn', '--stages', 'viewer', '--dir', '/tmp/a,b', '--again'])).toEqual({ sizes: [65536], stages: ['trace', 'kn', 'viewer'], dir: '/tmp/a,b', again: true });
    expect(parseArgs(['65536,524288', 'construction', 'rebuild-score'])).toEqual({ sizes: [65536, 524288], stages: ['construction', 'rebuild-score'], dir: null, again: false });
  });
  it('refuses an unknown stage, flag or size, naming what is valid', () => {
    expect(() => parseArgs(['--stages', 'trace,nope'])).toThrow(/unknown stage nope \(stages: trace .* report\)/);
    expect(() => parseArgs(['--size', '1'])).toThrow(/unknown flag --size/);
    expect(() => parseArgs(['--sizes', '64k'])).toThrow(/--sizes: NaN is not a size/);
    expect(() => parseArgs(['--dir'])).toThrow(/--dir needs a folder/);
  });
  it('growth: log(b / a) / log(Nb / Na)', () => {
    expect(growth(1, 8, 65536, 524288)).toBeCloseTo(1, 12);
    expect(growth(2, 2, 65536, 524288)).toBe(0);
    expect(growth(0, 2, 65536, 524288)).toBeNull();
  });
});

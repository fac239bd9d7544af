// export: the .npz archive (a zip of .npy files, read back here structurally and, where
// python3 has NumPy, by numpy.load itself); --out accepts only a regular file or nothing,
// keeps a file's mode and leaves nothing behind; the forward pass of docs/python.md, run on
// exported files, matches trace.S.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { crc32, crc32Table, unzip, zip } from '../../lib/cli/npz.ts';
import { parseNpyHeader, stringNpy, toNpy } from '../../lib/cli/npy.ts';
import { checkOutPath, writeOutFile } from '../../lib/cli/out-file.ts';
import { CliError } from '../../lib/cli/errors.ts';
import { paramCount } from '../../lib/rnn/weights.ts';
import { copyProject, pipelineCli, root } from '../helpers/project.ts';

const HAS_NUMPY = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
if (!HAS_NUMPY) console.log('note: python3 with NumPy is not here; the numpy.load checks of export are skipped');

const python = (code: string, cwd: string) => execFileSync('python3', ['-c', code], { cwd, encoding: 'utf8' });
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ti-export-'));
const refused = (f: () => void): CliError => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CliError);
    return e as CliError;
  }
  throw new Error('expected a refusal');
};

describe('npz: a zip of .npy files', () => {
  it('crc32 agrees with its table twin, and with the known value of "123456789"', () => {
    expect(crc32Table(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    const b = new Uint8Array(5000).map((_, i) => (i * 7919) & 255);
    expect(crc32(b)).toBe(crc32Table(b));
  });

  it('round-trips members, deflated when smaller and stored when not', () => {
    const ones = new Uint8Array(4096).fill(1);
    const noise = new Uint8Array(64).map((_, i) => (i * 2654435761) >>> 24);
    const z = zip([{ name: 'a.npy', bytes: ones }, { name: 'b.npy', bytes: noise }]);
    expect(z.length).toBeLessThan(4096); // the run of ones was deflated
    const back = unzip(z);
    expect([...back.keys()]).toEqual(['a.npy', 'b.npy']);
    expect(back.get('a.npy')).toEqual(ones);
    expect(back.get('b.npy')).toEqual(noise);
    expect(() => zip([{ name: 'a.npy', bytes: ones }, { name: 'a.npy', bytes: ones }])).toThrow(/twice/);
  });

  it('a string is a 0-d unicode array', () => {
    const s = stringNpy('{"é":"𝄞"}');
    const h = parseNpyHeader(s);
    expect(h).toMatchObject({ descr: '<U9', shape: [] });
    expect(s.length - h.offset).toBe(4 * 9);
  });

  it.skipIf(!HAS_NUMPY)('numpy.load reads the archive: names, dtypes, shapes and values', () => {
    const dir = tmp();
    const a = new Float32Array([1.5, -2, 3.25, 0, 7, 8]);
    const b = new Float64Array(1000).map((_, i) => Math.sin(i));
    const z = zip([
      { name: 'a.npy', bytes: toNpy({ dtype: 'float32', shape: [2, 3], data: a }) },
      { name: 'b.npy', bytes: toNpy({ dtype: 'float64', shape: [1000], data: b }) },
      { name: 'json.npy', bytes: stringNpy(JSON.stringify({ T: 3, name: 'é' })) },
    ]);
    fs.writeFileSync(path.join(dir, 'x.npz'), z);
    const out = python("import numpy as np, json; f = np.load('x.npz'); print(sorted(f.files), f['a'].dtype, f['a'].shape, f['a'][1, 2], f['b'].dtype, round(float(f['b'][999]), 12), json.loads(str(f['json'])))", dir);
    expect(out.trim()).toBe(`['a', 'b', 'json'] float32 (2, 3) 8.0 float64 ${Math.sin(999).toFixed(12).replace(/0+$/, '')} {'T': 3, 'name': 'é'}`);
  });
});

describe('--out: only a regular file or nothing', () => {
  const bytes = new TextEncoder().encode('new contents\n');
  const leftovers = (dir: string) => fs.readdirSync(dir).filter((f) => f.includes('.tmp-'));

  it('creates a file and its folders; replaces a regular file keeping its mode', () => {
    const dir = tmp();
    writeOutFile(path.join(dir, 'a/b/new.npy'), bytes);
    expect(fs.readFileSync(path.join(dir, 'a/b/new.npy'), 'utf8')).toBe('new contents\n');
    const secret = path.join(dir, 'secret.npy');
    fs.writeFileSync(secret, 'old');
    fs.chmodSync(secret, 0o600);
    writeOutFile(secret, bytes);
    expect(fs.statSync(secret).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(secret, 'utf8')).toBe('new contents\n');
    expect(leftovers(dir)).toEqual([]);
  });

  it('refuses a directory, a trailing slash, "", a symlink, a FIFO and /proc, touching nothing', () => {
    const dir = tmp();
    fs.mkdirSync(path.join(dir, 'd'));
    expect(refused(() => writeOutFile(path.join(dir, 'd'), bytes)).message).toMatch(/is a directory/);
    expect(refused(() => writeOutFile(path.join(dir, 'nothing') + '/', bytes)).message).toMatch(/names a directory/);
    expect(fs.existsSync(path.join(dir, 'nothing'))).toBe(false);
    expect(refused(() => writeOutFile('', bytes)).message).toMatch(/is empty/);
    const target = path.join(dir, 'target.npy');
    fs.writeFileSync(target, 'kept');
    fs.symlinkSync(target, path.join(dir, 'link.npy'));
    const e = refused(() => writeOutFile(path.join(dir, 'link.npy'), bytes));
    expect(e.message).toMatch(/symbolic link/);
    expect(e.hint).toContain(fs.realpathSync(target));
    expect(fs.lstatSync(path.join(dir, 'link.npy')).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(target, 'utf8')).toBe('kept');
    if (spawnSync('mkfifo', [path.join(dir, 'fifo')]).status === 0) {
      expect(refused(() => writeOutFile(path.join(dir, 'fifo'), bytes)).message).toMatch(/FIFO/);
      expect(fs.lstatSync(path.join(dir, 'fifo')).isFIFO()).toBe(true);
    }
    if (fs.existsSync('/proc/self')) {
      const p = refused(() => writeOutFile('/proc/ti-export-test/x.npy', bytes));
      expect(p.reason).toBe('usage');
      expect(p.message).toMatch(/cannot write it/);
    }
    expect(leftovers(dir)).toEqual([]);
    expect(fs.readdirSync(dir).sort()).toEqual(['d', 'fifo', 'link.npy', 'target.npy'].filter((f) => f !== 'fifo' || fs.existsSync(path.join(dir, 'fifo'))));
  });

  it.skipIf(process.getuid?.() !== 0)('as root: a device node (a scratch /dev/null made with mknod) is refused and stays a device', () => {
    const dir = tmp();
    const dev = path.join(dir, 'null');
    if (spawnSync('mknod', ['-m', '666', dev, 'c', '1', '3']).status !== 0) return; // no mknod in this container
    const e = refused(() => writeOutFile(dev, bytes));
    expect(e.message).toMatch(/character device/);
    const st = fs.lstatSync(dev);
    expect(st.isCharacterDevice()).toBe(true);
    expect(st.mode & 0o777).toBe(0o666);
    expect(leftovers(dir)).toEqual([]);
  });

  it('checkOutPath lets through only nothing or a regular file', () => {
    const dir = tmp();
    expect(checkOutPath(path.join(dir, 'x'))).toBeNull();
    fs.writeFileSync(path.join(dir, 'x'), '');
    expect(checkOutPath(path.join(dir, 'x'))?.isFile()).toBe(true);
  });
});

describe('export through the command line (a project copy, imported H = 8 weights)', () => {
  const H = 8;
  const MODEL = ['--set', 'model.source=w8.bin', '--set', `model.hidden=${H}`];
  let dir: string;
  beforeAll(() => {
    dir = copyProject();
    const w = new Float32Array(paramCount(H));
    for (let i = 0; i < w.length; i++) w[i] = 0.3 * Math.sin(i * 0.7);
    fs.writeFileSync(path.join(dir, 'w8.bin'), new Uint8Array(w.buffer));
  });

  it('trace, data and model as .npz; structurally right, and the forward pass of docs/python.md matches trace.S', async () => {
    for (const [t, out] of [['trace', 'trace.npz'], ['data', 'data.npz'], ['model', 'weights.npz']]) {
      const r = await pipelineCli(dir, ['export', t, '--out', out, '--quiet', ...MODEL]);
      expect(r.code, r.stderr).toBe(0);
    }
    const tr = unzip(new Uint8Array(fs.readFileSync(path.join(dir, 'trace.npz'))));
    expect([...tr.keys()]).toEqual(['z.npy', 'S.npy', 'lpNext.npy', 'bits.npy', 'logp.npy', 'json.npy']);
    expect(parseNpyHeader(tr.get('S.npy')!)).toMatchObject({ descr: '<f4', shape: [1024, H] });
    const w = unzip(new Uint8Array(fs.readFileSync(path.join(dir, 'weights.npz'))));
    expect([...w.keys()].map((k) => [k, parseNpyHeader(w.get(k)!).shape])).toEqual([
      ['Wx.npy', [H, 256]], ['Wh.npy', [H, H]], ['bh.npy', [H]], ['Wy.npy', [256, H]], ['by.npy', [256]], ['json.npy', []],
    ]);
    if (!HAS_NUMPY) return;
    const doc = fs.readFileSync(path.join(root, 'docs/python.md'), 'utf8');
    const code = /```python\n([\s\S]*?)```/.exec(doc)![1];
    expect(code.trim().split('\n').length).toBeLessThanOrEqual(10);
    const [maxDiff, bits, bpc] = python(code, dir).trim().split(/\s+/).map(Number);
    expect(maxDiff).toBeLessThanOrEqual(1e-6);
    expect(Math.abs(bits - bpc)).toBeLessThan(1e-9);
  }, 60000);

  it('odd targets: error and hint, exit 2, nothing built, nothing changed, no temp file', async () => {
    fs.mkdirSync(path.join(dir, 'adir'));
    fs.writeFileSync(path.join(dir, 'kept.npy'), 'kept');
    fs.symlinkSync('kept.npy', path.join(dir, 'link.npy'));
    for (const out of ['adir', 'adir/', '', 'link.npy', '/proc/ti-nope/x.npy']) {
      const r = await pipelineCli(dir, ['export', 'trace.S', '--out', out, '--set', 'model.hidden=8', '--set', 'model.source=w8.bin']);
      expect(r.code, `${out}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/^error: --out .*\nhint: /m);
      expect(r.stderr).not.toMatch(/this is a bug/);
    }
    expect(fs.readFileSync(path.join(dir, 'kept.npy'), 'utf8')).toBe('kept');
    expect(fs.lstatSync(path.join(dir, 'link.npy')).isSymbolicLink()).toBe(true);
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const whole = await pipelineCli(dir, ['export', 'trace', '--out', 'trace.npy', ...MODEL]);
    expect(whole.code).toBe(2);
    expect(whole.stderr).toMatch(/^hint: .*export trace --out trace\.npz/m);
  }, 60000);
});

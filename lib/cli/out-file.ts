// Writing a file the user named with --out (export), so that nothing else at that path is
// harmed. Only a regular file, or nothing, may be at the path:
// - absent: the file is created (with its missing parent folders) from a temporary file in
//   the same folder, renamed into place when complete;
// - a regular file: replaced the same way, keeping its permission bits (and, as root, its
//   owner), so a 0600 file stays 0600;
// - anything else is refused and left untouched: a directory (or a path ending in "/"), a
//   symbolic link (even to a regular file: the link is not followed, and not replaced by a
//   file; name its target instead), a device node such as /dev/null, a FIFO or a socket.
// Nothing is written through a link or into a device. A failed write removes its temporary
// file and any folder it created; Ctrl-C does the same (removePendingOutputs).

import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { CliError } from './errors.ts';

/** Temporary files and folders made by writes in progress (removed if the process is interrupted). */
const pending = new Set<string>();

/** Remove what unfinished writes left (their temporary files, folders they created). */
export function removePendingOutputs(): void {
  for (const p of [...pending].reverse()) {
    try {
      fs.rmSync(p, { force: true, recursive: false });
    } catch {
      try {
        fs.rmdirSync(p);
      } catch {
        // already gone, or not empty: someone else's
      }
    }
    pending.delete(p);
  }
}

function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

const HINT_FILE = 'name a regular file (it is created, or replaced keeping its mode), e.g. --out out/trace.npz';

function refuse(out: string, why: string, hint = HINT_FILE): never {
  throw new CliError('usage', `--out ${JSON.stringify(out)}: ${why}; export writes only regular files and left it untouched`, hint);
}

/**
 * Whether a file can be made where `out` would go: a temporary file (or folder, where
 * folders are missing) is made in the nearest existing folder and removed again, so that an
 * unwritable target is refused before anything is built.
 */
export function probeOutPath(out: string): void {
  let dir = path.dirname(path.resolve(out));
  let missing = false;
  while (!fs.existsSync(dir) && path.dirname(dir) !== dir) {
    dir = path.dirname(dir);
    missing = true;
  }
  const probe = path.join(dir, `.${path.basename(out)}.probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    if (missing) {
      fs.mkdirSync(probe);
      fs.rmdirSync(probe);
    } else {
      fs.closeSync(fs.openSync(probe, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600));
      fs.rmSync(probe, { force: true });
    }
  } catch (e) {
    throw cannotWrite(out, e);
  }
}

/** Why `out` cannot be written by writeOutFile, or null when it can (absent or a regular file). */
export function checkOutPath(out: string): fs.Stats | null {
  if (out.trim() === '') refuse(out, 'is empty');
  if (out.endsWith('/') || out.endsWith(`${path.sep}.`) || out === '.' || out === '..' || out.endsWith(`${path.sep}..`)) {
    refuse(out, 'names a directory', `name a file inside it, e.g. --out ${path.join(out, 'trace.npz')}`);
  }
  let st: fs.Stats;
  try {
    st = fs.lstatSync(out);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ENOTDIR') refuse(out, 'has a file where a folder should be');
    throw cannotWrite(out, e);
  }
  if (st.isFile()) return st;
  if (st.isDirectory()) refuse(out, 'is a directory', `name a file inside it, e.g. --out ${path.join(out, 'trace.npz')}`);
  if (st.isSymbolicLink()) {
    let target = '';
    try {
      target = fs.realpathSync(out);
    } catch {
      // a dangling link
    }
    refuse(out, 'is a symbolic link (not followed, not replaced)', target ? `name the file it points to: --out ${target}` : 'remove the link, or name another file');
  }
  refuse(out, `is ${kindOf(st)}`, `write a file and copy it there yourself, e.g. --out trace.npy && cp trace.npy ${out}`);
}

function cannotWrite(out: string, e: unknown): CliError {
  const err = e as NodeJS.ErrnoException;
  const code = err.code ?? 'error';
  const words: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'a read-only file system',
    ENOENT: 'its folder does not accept new files',
    ENOTDIR: 'a file stands where a folder should be',
    EISDIR: 'is a directory',
    ENAMETOOLONG: 'the name is too long',
    ENOSPC: 'no space left on the device',
    EDQUOT: 'over the disk quota',
    EXDEV: 'the temporary file could not be moved into place',
  };
  const what = words[code] ?? err.message;
  const full = code === 'ENOSPC' || code === 'EDQUOT' || code === 'EIO';
  return new CliError(full ? 'write-failed' : 'usage', `--out ${JSON.stringify(out)}: cannot write it (${what}, ${code}); nothing was written`, full ? 'free some space, or write elsewhere' : 'name a file in a folder you can write to');
}

/** Create out's missing parent folders; returns the ones created (outermost first). */
function makeParents(dir: string): string[] {
  const missing: string[] = [];
  let d = path.resolve(dir);
  while (!fs.existsSync(d)) {
    missing.unshift(d);
    const up = path.dirname(d);
    if (up === d) break;
    d = up;
  }
  for (const m of missing) {
    fs.mkdirSync(m);
    pending.add(m);
  }
  return missing;
}

/**
 * Write `bytes` to `out` (absent or a regular file; anything else is refused, see above),
 * atomically: a reader sees the old file or the whole new one, never part of it.
 */
export function writeOutFile(out: string, bytes: Uint8Array): void {
  const before = checkOutPath(out);
  const dir = path.dirname(path.resolve(out));
  let created: string[] = [];
  const tmp = path.join(dir, `.${path.basename(out)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  let fd: number | null = null;
  try {
    created = makeParents(dir);
    // 0o666 less the umask for a new file, like any other program; an existing file's own mode.
    fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, before ? 0o600 : 0o666);
    pending.add(tmp);
    if (before) {
      fs.fchmodSync(fd, before.mode & 0o7777);
      if (process.getuid?.() === 0 && (before.uid !== 0 || before.gid !== 0)) fs.fchownSync(fd, before.uid, before.gid);
    }
    let off = 0;
    while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    // The path may have changed since it was checked: check again just before the rename.
    checkOutPath(out);
    fs.renameSync(tmp, out);
    pending.delete(tmp);
    for (const c of created) pending.delete(c);
  } catch (e) {
    if (fd !== null) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    pending.delete(tmp);
    for (const c of created.reverse()) {
      try {
        fs.rmdirSync(c);
      } catch {
        // not empty: something else wrote there meanwhile
      }
      pending.delete(c);
    }
    if (e instanceof CliError) throw e;
    throw cannotWrite(out, e);
  }
}

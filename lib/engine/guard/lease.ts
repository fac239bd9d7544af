// The lease a lock file holds: its record format (who holds it, until when), reading it
// back (old lease-less records included), and the rules by which a lock is stale:
//   - its lease has expired (by the time written in it, or, against clock skew between
//     hosts, because its contents have not changed for a whole lease as this process saw
//     it), whatever its pid or host: a zombie, a reused pid or a dead host cannot hold it;
//   - or its holder is on this host and its pid is gone (a killed run frees the lock at once).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Holder {
  pid: number;
  host: string;
  since: string;
  /** Random id of this holding (a pid can be reused; a token cannot). */
  token: string;
  leaseMs: number;
  /** Epoch ms (holder's clock) after which the lock is stale unless renewed. */
  expires: number;
}

export const DEFAULT_LEASE_MS = 30_000;
/** Lock records are padded to this size and renewed in place (never re-created). */
export const RECORD_BYTES = 512;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/**
 * The holder a lock file names, or null while it is unreadable. A lock written before
 * leases existed ({pid, host, since}) gets a lease from its mtime: it was never renewed.
 */
export function parseHolder(text: string | null, file?: string): Holder | null {
  if (text === null) return null;
  try {
    const h = JSON.parse(text);
    if (typeof h?.pid !== 'number' || typeof h.host !== 'string') return null;
    if (typeof h.expires !== 'number') {
      const st = file ? fs.statSync(file, { throwIfNoEntry: false }) : undefined;
      return { since: '', ...h, token: `legacy-${h.pid}`, leaseMs: DEFAULT_LEASE_MS, expires: (st?.mtimeMs ?? 0) + DEFAULT_LEASE_MS };
    }
    return h;
  } catch {
    return null;
  }
}

export function readHolder(file: string): Holder | null {
  return parseHolder(readText(file), file);
}

export function record(h: Holder): Buffer {
  const text = JSON.stringify(h);
  return Buffer.from(text.padEnd(Math.max(RECORD_BYTES, text.length + 1), ' '));
}

export function writeAll(fd: number, buf: Buffer, position: number | null): void {
  let off = 0;
  while (off < buf.byteLength) {
    const n = fs.writeSync(fd, buf, off, buf.byteLength - off, position === null ? null : position + off);
    if (n <= 0) throw Object.assign(new Error('no space left on device, write'), { code: 'ENOSPC' });
    off += n;
  }
}

/** When a waiter first saw each lock's current contents, by its own clock (clock-skew guard). */
const seen = new Map<string, { text: string; at: number }>();

/** Why a lock is stale, or null while its holder holds it. */
export function staleness(file: string, h: Holder, now = Date.now()): string | null {
  if (now > h.expires) return `its lease expired ${((now - h.expires) / 1000).toFixed(1)} s ago`;
  if (h.host === os.hostname() && !alive(h.pid)) return `process ${h.pid} is gone`;
  const text = JSON.stringify(h);
  const s = seen.get(file);
  if (!s || s.text !== text) seen.set(file, { text, at: now });
  else if (now - s.at > h.leaseMs) return `it has not been renewed for ${((now - s.at) / 1000).toFixed(1)} s`;
  return null;
}

export function describeHolder(h: Holder): string {
  const age = h.since ? ` since ${h.since}` : '';
  return `process ${h.pid} on host ${h.host}${age}`;
}

/** Locks in `dir` whose holders still hold them, as "name (pid N on host H)". */
export function liveLocks(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const f of fs.readdirSync(dir)) {
    if (!f.endsWith('.lock')) continue;
    const file = path.join(dir, f);
    const h = readHolder(file);
    if (h && !staleness(file, h)) out.push(`${f.slice(0, -5)} (pid ${h.pid} on ${h.host})`);
  }
  return out;
}

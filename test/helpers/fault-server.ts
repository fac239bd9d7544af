// A small HTTP remote cache in memory that injects faults, for the remote cache's tests and
// the reliability bench: GET/HEAD/PUT on <prefix>/cas/<hash> and <prefix>/ac/<key> as
// nginx's WebDAV answers them, on 127.0.0.1 and a free port. `fault` picks, per request,
// what goes wrong: the connection reset before an answer, an answer that drips slowly, or a
// body far larger than what is stored (counted in `sentBytes`, to show the client stopped
// reading). `files` is the store itself, so a test can forge entries and objects in it.

import http from 'node:http';
import type net from 'node:net';

export type Fault = 'reset' | 'slow' | 'huge' | 'huge-chunked' | null;

export interface FaultServer {
  url: string;
  port: number;
  /** path after the host (e.g. "/p1/ac/<key>") to bytes. */
  files: Map<string, Buffer>;
  /** Decides each request's fault (default: none). */
  fault: (method: string, path: string) => Fault;
  /** Bytes written in answers with a fault of huge or slow. */
  sentBytes: number;
  requests: { method: string; path: string; fault: Fault }[];
  stop(): Promise<void>;
}

/** Start the server. `hugeBytes`: the size a huge answer claims and sends (default 1 GiB). */
export async function startFaultServer(o: { hugeBytes?: number; dripMs?: number } = {}): Promise<FaultServer> {
  const huge = o.hugeBytes ?? 2 ** 30;
  const sockets = new Set<net.Socket>();
  const s: FaultServer = {
    url: '',
    port: 0,
    files: new Map(),
    fault: () => null,
    sentBytes: 0,
    requests: [],
    stop: async () => {
      for (const so of sockets) so.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server = http.createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    const method = req.method ?? 'GET';
    const fault = s.fault(method, path);
    s.requests.push({ method, path, fault });
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    if (method === 'PUT') {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => {
        s.files.set(path, Buffer.concat(parts));
        res.writeHead(201).end();
      });
      return;
    }
    const body = s.files.get(path);
    if (fault === 'huge' || fault === 'huge-chunked') {
      // A body of `huge` bytes, written as the client reads it (so the count shows how far it read).
      res.writeHead(200, fault === 'huge' ? { 'content-length': String(huge) } : {});
      const chunk = Buffer.alloc(1 << 16, 0x41);
      let left = huge;
      const pump = () => {
        while (left > 0) {
          const n = Math.min(chunk.length, left);
          left -= n;
          s.sentBytes += n;
          if (!res.write(chunk.subarray(0, n))) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => (left = 0));
      pump();
      return;
    }
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    if (method === 'HEAD') {
      res.writeHead(200, { 'content-length': String(body.length) }).end();
      return;
    }
    if (fault === 'slow') {
      // Headers now, then one byte every dripMs: a remote that has stalled without closing.
      res.writeHead(200, { 'content-length': String(body.length) });
      let i = 0;
      const t = setInterval(() => {
        if (i >= body.length || res.destroyed) {
          clearInterval(t);
          res.end();
          return;
        }
        s.sentBytes++;
        res.write(body.subarray(i, ++i));
      }, o.dripMs ?? 1000);
      res.on('close', () => clearInterval(t));
      return;
    }
    res.writeHead(200, { 'content-length': String(body.length) }).end(body);
  });
  server.on('connection', (so) => {
    sockets.add(so);
    so.on('close', () => sockets.delete(so));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  s.port = (server.address() as net.AddressInfo).port;
  s.url = `http://127.0.0.1:${s.port}`;
  return s;
}

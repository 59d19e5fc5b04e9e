// Serving the gdb stub on TCP: one client at a time, as gdb-multiarch connects with
// `target remote HOST:PORT`; the session ends when it detaches, kills the target or goes.

import { createServer, type Socket } from 'node:net';
import { UserError, ExitCode } from '../errors.js';
import type { DebugTarget } from './debugger.js';
import { GdbStub, type SessionEnd } from './stub.js';

export interface Listen {
  host: string;
  port: number;
}

/** `[HOST:]PORT` (HOST defaults to 127.0.0.1; PORT 0 takes any free port). */
export function parseListen(value: string, option: string): Listen {
  const m = /^(?:(.*):)?(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new UserError(`${option}: '${value}' is not [HOST:]PORT (examples: 1234, 127.0.0.1:1234, 0.0.0.0:1234)`, ExitCode.Usage);
  const host = m[1] === undefined || m[1] === '' ? '127.0.0.1' : m[1].replace(/^\[(.*)\]$/, '$1');
  return { host, port };
}

/**
 * Listens at `at`, tells `ready` the address it got, and serves the first client that
 * connects until its session ends; a second client meanwhile is told so and closed.
 */
export function serveGdb(dbg: DebugTarget, at: Listen, ready: (host: string, port: number) => void, cancelled: () => boolean = () => false): Promise<SessionEnd> {
  return new Promise((resolve, reject) => {
    let client: Socket | null = null;
    let stub: GdbStub | null = null;
    // A signal (or Ctrl-A X on a live run's console) ends the session, connected or not.
    const watch = setInterval(() => {
      if (!cancelled()) return;
      clearInterval(watch);
      client?.destroy();
      server.close();
      if (stub) stub.stop();
      else resolve('stopped');
    }, 100);
    const server = createServer((socket) => {
      if (client) {
        socket.end('-'); // one debugger at a time
        return;
      }
      client = socket;
      socket.setNoDelay(true);
      const s = (stub = new GdbStub(dbg, {
        send: (b) => {
          if (!socket.destroyed) socket.write(b);
        },
        close: () => socket.end(),
      }));
      s.onEnd = (why) => {
        clearInterval(watch);
        server.close();
        resolve(why);
      };
      socket.on('data', (chunk) => s.receive(chunk));
      socket.on('close', () => s.disconnected());
      socket.on('error', () => s.disconnected());
    });
    server.on('error', (e: NodeJS.ErrnoException) => {
      clearInterval(watch);
      const why = e.code === 'EADDRINUSE' ? 'the port is in use' : e.code === 'EACCES' ? 'permission denied' : e.message;
      reject(new UserError(`--gdb ${at.host}:${at.port}: cannot listen (${why})`, ExitCode.Usage));
    });
    server.listen(at.port, at.host, () => {
      const a = server.address();
      ready(at.host, typeof a === 'object' && a ? a.port : at.port);
    });
  });
}

import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { type Child, spawnProcess } from './processes.js';

/**
 * A throwaway Redis (Debian's redis-server) on a free loopback port, no persistence, its own working directory.
 *
 * redis-server runs under a small sh wrapper that holds the pipe to this process: when the test process dies, even by
 * SIGKILL, the wrapper reads EOF and stops Redis, so no server outlives its test.
 */

export interface RedisServer {
  url: string;
  port: number;
  /** shut down (SIGTERM) and remove the working directory; safe twice */
  stop(): Promise<void>;
  /** SIGKILL the server (fault tests); restart() brings it back */
  kill(): Promise<void>;
  /** start again on the same port (after kill() or stop()) */
  restart(): Promise<void>;
}

const WRAPPER = [
  'redis-server "$@" & p=$!',
  'while read -r cmd; do',
  '  if [ "$cmd" = kill ]; then kill -KILL "$p"; wait "$p"; echo "wrapper: killed"; exit 0; fi',
  'done',
  'kill -TERM "$p" 2>/dev/null; wait "$p"',
].join('\n');

/** true when something on 127.0.0.1:port answers a Redis PING */
export function ping(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    let buf = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
    sock.on('error', () => done(false));
  });
}

async function launch(port: number, dir: string): Promise<{ child: Child; bound: boolean }> {
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--logfile',
    '',
    '--daemonize',
    'no',
    '--databases',
    '1',
  ];
  const child = spawnProcess('sh', { args: ['-c', WRAPPER, 'redis-wrapper', ...args], name: 'redis-server' });
  const m = await child.waitForLine(/Ready to accept connections|aborting|Address already in use/, {
    stream: 'stdout',
    timeoutMs: 10_000,
  });
  if (!m[0].startsWith('Ready')) {
    child.endInput();
    await child.stop(2_000);
    return { child, bound: false };
  }
  const deadline = Date.now() + 5_000;
  while (!(await ping(port))) {
    if (Date.now() > deadline) {
      await child.stop(2_000);
      throw new Error(`redis-server on port ${port} did not answer PING`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { child, bound: true };
}

export async function startRedis(): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'meshward-redis-'));
  let port = 0;
  let child: Child | undefined;
  // another process can take the free port before Redis binds it: try a few ports
  for (let attempt = 0; attempt < 5 && !child; attempt++) {
    port = await freePort();
    const r = await launch(port, dir);
    if (r.bound) child = r.child;
  }
  if (!child) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error('could not start redis-server on a free port');
  }
  let current: Child | undefined = child;
  let stopped = false;

  const halt = async (): Promise<void> => {
    const c = current;
    current = undefined;
    if (!c) return;
    c.endInput();
    await Promise.race([c.exited, new Promise((r) => setTimeout(r, 3_000).unref())]);
    await c.stop(2_000);
  };

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      if (stopped) return;
      stopped = true;
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
    async kill() {
      const c = current;
      current = undefined;
      if (!c) return;
      const since = c.lineCount();
      c.write('kill');
      await c.waitForLine(/^wrapper: killed$/, { since, timeoutMs: 5_000 }).catch(() => c.kill('SIGKILL'));
      await c.exited;
    },
    async restart() {
      if (stopped) throw new Error('redis: restart() after stop()');
      await halt();
      // the port was ours a moment ago; retry briefly in case the old socket is still closing
      const deadline = Date.now() + 5_000;
      for (;;) {
        const r = await launch(port, dir);
        if (r.bound) {
          current = r.child;
          return;
        }
        if (Date.now() > deadline) throw new Error(`redis: could not bind port ${port} again`);
        await new Promise((res) => setTimeout(res, 100));
      }
    },
  };
}

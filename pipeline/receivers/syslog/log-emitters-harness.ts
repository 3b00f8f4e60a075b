import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../../test/harness/paths.js';
import { freePort } from '../../../test/harness/ports.js';
import { type Child, spawnProcess } from '../../../test/harness/processes.js';

/**
 * Real nginx and HAProxy (Debian packages) as log emitters for the syslog receiver tests, configured from the
 * templates in deploy/nginx-logs and deploy/haproxy-logs with test ports and a temp prefix. Separate from
 * test/harness (enforcement harnesses) on purpose: these only emit access logs.
 */

export interface Emitter {
  /** base URL of the proxy */
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** A tiny upstream: `/bytes/N` answers N bytes; `?status=S` sets the status. */
export async function startUpstream(): Promise<{ address: string; stop(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const m = /^\/bytes\/(\d+)/.exec(u.pathname);
    const body = 'x'.repeat(m ? Math.min(1_000_000, Number(m[1])) : 2);
    req.resume();
    req.on('end', () => {
      res.writeHead(Number(u.searchParams.get('status') ?? 200), { 'content-type': 'text/plain' });
      res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function waitForPort(port: number, child: Child, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (child.exitInfo() || Date.now() > end) {
      const out = child
        .lines()
        .map((l) => l.text)
        .join('\n');
      throw new Error(`${child.name} did not listen on ${port}:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

const fill = (template: string, vars: Record<string, string>): string =>
  template.replace(/\$\{(MESHWARD_[A-Z0-9_]+)\}/g, (whole, name: string) => vars[name] ?? whole);

export async function startNginx(opts: { syslog: string; upstream: string; tokenHashKey: string }): Promise<Emitter> {
  const prefix = mkdtempSync(join(tmpdir(), 'mw-nginx-logs-'));
  for (const d of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(prefix, d));
  const confDir = join(repoRoot(), 'deploy', 'nginx-logs');
  const port = await freePort();
  const conf = fill(readFileSync(join(confDir, 'nginx.conf.template'), 'utf8'), {
    MESHWARD_PREFIX: prefix,
    MESHWARD_LISTEN: `127.0.0.1:${port}`,
    MESHWARD_UPSTREAM: opts.upstream,
    MESHWARD_SYSLOG: opts.syslog,
    MESHWARD_CONF_DIR: confDir,
    MESHWARD_TOKEN_HASH_KEY: opts.tokenHashKey,
  });
  writeFileSync(join(prefix, 'nginx.conf'), conf);
  const child = spawnProcess('nginx', {
    args: [
      '-e',
      join(prefix, 'error.log'),
      '-p',
      prefix,
      '-c',
      join(prefix, 'nginx.conf'),
      '-g',
      'daemon off; master_process off;',
    ],
    name: 'nginx',
    stdin: false,
  });
  try {
    await waitForPort(port, child);
  } catch (err) {
    child.kill();
    let log = '';
    try {
      log = readFileSync(join(prefix, 'error.log'), 'utf8');
    } catch {}
    throw new Error(`${(err as Error).message}\n${log}`);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async stop() {
      await child.stop(3_000);
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}

export async function startHaproxy(opts: { syslog: string; upstream: string; tokenHashKey: string }): Promise<Emitter> {
  const port = await freePort();
  const cfg = join(repoRoot(), 'deploy', 'haproxy-logs', 'haproxy.cfg.template');
  const child = spawnProcess('haproxy', {
    args: ['-db', '-f', cfg],
    name: 'haproxy',
    stdin: false,
    env: {
      MESHWARD_SYSLOG: opts.syslog,
      MESHWARD_LISTEN: `127.0.0.1:${port}`,
      MESHWARD_UPSTREAM: opts.upstream,
      MESHWARD_TOKEN_HASH_KEY_B64: Buffer.from(opts.tokenHashKey, 'utf8').toString('base64'),
    },
  });
  try {
    await waitForPort(port, child);
  } catch (err) {
    child.kill();
    throw err;
  }
  return { url: `http://127.0.0.1:${port}`, port, stop: async () => void (await child.stop(3_000)) };
}

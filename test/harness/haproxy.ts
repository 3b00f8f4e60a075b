import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './paths.js';
import { freePort } from './ports.js';
import { type Child, spawnProcess } from './processes.js';

/**
 * A real HAProxy (Debian's /usr/sbin/haproxy) on free loopback ports, for tests that talk to it. The config file is
 * meshward's deploy template (or another file using the same variables), filled in through the environment:
 * MESHWARD_BIND, MESHWARD_BACKEND, MESHWARD_ADMIN_SOCKET, MESHWARD_MAP_DIR, MESHWARD_TOKEN_KEY_B64.
 * Everything lives in a temp dir: the maps, the admin socket, a pid file and `haproxy.log` (its stderr).
 */
export interface HaproxyOptions {
  /** default deploy/haproxy/haproxy-deny.cfg */
  configFile?: string;
  /** host:port of the backend */
  backend: string;
  /** the token hash key (raw bytes as a string); passed to HAProxy base64-encoded */
  tokenKey?: string;
  /** Runtime API over TCP on loopback instead of a unix socket */
  adminTcp?: boolean;
  /** reuse a folder (e.g. to restart over the same maps); created when absent */
  dir?: string;
  /** files to write into the dir before start (name → contents); map files not listed start empty */
  files?: Record<string, string>;
}

export interface HaproxyInstance {
  readonly dir: string;
  readonly port: number;
  /** `host:port` of the frontend */
  readonly address: string;
  /** the value to give the adapter as `socket` */
  readonly adminSocket: string;
  readonly mapDir: string;
  readonly pid: number;
  readonly child: Child;
  /** stop HAProxy; removes the temp dir unless keepDir */
  stop(opts?: { keepDir?: boolean }): Promise<void>;
}

export const HAPROXY_MAPS = ['deny-ip.map', 'deny-key.map', 'deny-route.map'];

function adminAnswers(target: string): Promise<boolean> {
  return new Promise((resolve) => {
    const colon = target.lastIndexOf(':');
    const sock = target.startsWith('/')
      ? connect({ path: target })
      : connect({ host: target.slice(0, colon), port: Number(target.slice(colon + 1)) });
    let text = '';
    sock.setTimeout(1000, () => sock.destroy());
    sock.on('connect', () => sock.write('show info\n'));
    sock.on('data', (c) => {
      text += c.toString();
    });
    sock.on('error', () => resolve(false));
    sock.on('close', () => resolve(text.includes('Pid:')));
  });
}

export async function startHaproxy(opts: HaproxyOptions): Promise<HaproxyInstance> {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'mw-haproxy-')));
  await mkdir(dir, { recursive: true });
  for (const name of HAPROXY_MAPS) {
    if (!opts.files?.[name]) await writeFile(join(dir, name), '', { flag: 'a' });
  }
  for (const [name, text] of Object.entries(opts.files ?? {})) await writeFile(join(dir, name), text);
  const port = await freePort();
  const adminPort = opts.adminTcp ? await freePort() : 0;
  const adminSocket = opts.adminTcp ? `127.0.0.1:${adminPort}` : join(dir, 'admin.sock');
  const configFile = opts.configFile ?? join(repoRoot(), 'deploy/haproxy/haproxy-deny.cfg');
  const child = spawnProcess('haproxy', {
    args: ['-db', '-f', configFile, '-p', join(dir, 'haproxy.pid')],
    stdin: false,
    env: {
      MESHWARD_BIND: `127.0.0.1:${port}`,
      MESHWARD_BACKEND: opts.backend,
      MESHWARD_ADMIN_SOCKET: opts.adminTcp ? `ipv4@${adminSocket}` : adminSocket,
      MESHWARD_MAP_DIR: dir,
      MESHWARD_TOKEN_KEY_B64: Buffer.from(opts.tokenKey ?? 'meshward-test-key').toString('base64'),
    },
  });
  const log = createWriteStream(join(dir, 'haproxy.log'));
  child.process.stderr?.pipe(log);
  child.process.stdout?.pipe(log);
  await writeFile(join(dir, 'haproxy.pid'), `${child.pid}\n`);
  const deadline = Date.now() + 10_000;
  while (!(await adminAnswers(adminSocket))) {
    if (child.exitInfo() || Date.now() > deadline) {
      await child.stop(1000);
      const tail = child
        .lines()
        .slice(-10)
        .map((l) => l.text)
        .join('\n');
      throw new Error(`haproxy did not start (admin ${adminSocket}):\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    dir,
    port,
    address: `127.0.0.1:${port}`,
    adminSocket,
    mapDir: dir,
    pid: child.pid,
    child,
    async stop(stopOpts = {}) {
      await child.stop(3000);
      log.end();
      if (!stopOpts.keepDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

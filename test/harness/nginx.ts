import { createWriteStream } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { type Child, spawnProcess } from './processes.js';

/**
 * A real nginx (Debian's /usr/sbin/nginx, njs module loaded when present) on a free loopback port, in the
 * foreground (`daemon off`), for tests that talk to it. Everything lives in a temp dir used as nginx's prefix and
 * conf dir: nginx.conf, the pid file, error.log, temp paths, and any files or folders the test copies in, so
 * relative `include` paths resolve inside the dir.
 */
export interface NginxOptions {
  /** the body of the http {} block; `listen` must use `port` */
  http: (ctx: { port: number; dir: string }) => string;
  /** files to write into the dir (relative name → contents) */
  files?: Record<string, string>;
  /** folders to copy into the dir (source path → relative destination) */
  copy?: Record<string, string>;
  /** environment passed to nginx (and through `env NAME;` lines to its workers) */
  env?: Record<string, string>;
  /** load /usr/lib/nginx/modules/ngx_http_js_module.so (default true) */
  njs?: boolean;
}

export interface NginxInstance {
  readonly dir: string;
  readonly port: number;
  readonly confFile: string;
  readonly pidFile: string;
  readonly errorLog: string;
  /** the master's pid */
  readonly pid: number;
  readonly child: Child;
  stop(): Promise<void>;
}

export const NJS_MODULE = '/usr/lib/nginx/modules/ngx_http_js_module.so';

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.on('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.on('error', () => resolve(false));
  });
}

export async function startNginx(opts: NginxOptions): Promise<NginxInstance> {
  const dir = await mkdtemp(join(tmpdir(), 'mw-nginx-'));
  // workers may run as another user when the test runs as root: they need to traverse the dir
  await chmod(dir, 0o755);
  for (const [src, dest] of Object.entries(opts.copy ?? {})) await cp(src, join(dir, dest), { recursive: true });
  for (const [name, text] of Object.entries(opts.files ?? {})) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  const port = await freePort();
  const pidFile = join(dir, 'nginx.pid');
  const errorLog = join(dir, 'error.log');
  const confFile = join(dir, 'nginx.conf');
  const temp = join(dir, 'temp');
  await mkdir(temp, { recursive: true, mode: 0o777 });
  const env = opts.env ?? {};
  const conf = [
    'daemon off;',
    'worker_processes 1;',
    `pid ${pidFile};`,
    `error_log ${errorLog} warn;`,
    opts.njs === false ? '' : `load_module ${NJS_MODULE};`,
    ...Object.keys(env).map((k) => `env ${k};`),
    'events { worker_connections 256; }',
    'http {',
    '  access_log off;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${temp}/${t};`),
    opts.http({ port, dir }),
    '}',
    '',
  ].join('\n');
  await writeFile(confFile, conf);
  const child = spawnProcess('nginx', { args: ['-p', `${dir}/`, '-c', confFile], stdin: false, env });
  const out = createWriteStream(join(dir, 'stderr.log'));
  child.process.stderr?.pipe(out);
  const deadline = Date.now() + 10_000;
  while (!(await portOpen(port))) {
    if (child.exitInfo() || Date.now() > deadline) {
      await child.stop(1000);
      const log = await readFile(errorLog, 'utf8').catch(() => '');
      const stderr = child
        .lines()
        .map((l) => l.text)
        .join('\n');
      throw new Error(`nginx did not start:\n${stderr}\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 30));
  }
  return {
    dir,
    port,
    confFile,
    pidFile,
    errorLog,
    pid: child.pid,
    child,
    async stop() {
      // SIGQUIT: graceful shutdown of master and workers
      child.kill('SIGQUIT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await child.exited;
      clearTimeout(timer);
      out.end();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

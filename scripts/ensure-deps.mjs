#!/usr/bin/env node
// Installs what meshward needs when it is missing: npm dependencies (--npm) and, for the tests, the Debian packages
// of the real services they talk to (--system). Idempotent and quiet when everything is present.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));

/** Debian package → a file whose presence shows it is installed */
const SYSTEM_PACKAGES = {
  'redis-server': '/usr/bin/redis-server',
  'librdkafka-dev': '/usr/include/librdkafka/rdkafka_mock.h',
  gcc: '/usr/bin/gcc',
  nginx: '/usr/sbin/nginx',
  'libnginx-mod-http-js': '/usr/lib/nginx/modules/ngx_http_js_module.so',
  haproxy: '/usr/sbin/haproxy',
  chromium: '/usr/bin/chromium',
  'fonts-dejavu-core': '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
};

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} exited with ${r.status}`);
}

function npmDepsMissing() {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const names = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})];
  return names.filter((n) => !existsSync(join(root, 'node_modules', n, 'package.json')));
}

if (args.has('--npm')) {
  const missing = npmDepsMissing();
  if (missing.length > 0) {
    console.log(
      `[ensure-deps] installing npm dependencies (missing: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''})`,
    );
    // `npm ci` is exact and fast; when the lock file does not match this npm's view (another npm version resolved
    // optional platform packages differently), fall back to `npm install`, which repairs the lock.
    const ci = existsSync(join(root, 'package-lock.json'))
      ? spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { stdio: 'inherit', cwd: root })
      : { status: 1 };
    if (ci.status !== 0) run('npm', ['install', '--no-audit', '--no-fund']);
  }
}

if (args.has('--system')) {
  const missing = Object.entries(SYSTEM_PACKAGES)
    .filter(([, probe]) => !existsSync(probe))
    .map(([name]) => name);
  if (missing.length > 0) {
    const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    const sudo = isRoot ? [] : ['sudo'];
    console.log(`[ensure-deps] installing Debian packages: ${missing.join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const apt = (argv) => run(sudo[0] ?? 'apt-get', sudo.length ? ['apt-get', ...argv] : argv, { env });
    apt(['update', '-qq']);
    apt(['install', '-y', '-qq', '--no-install-recommends', ...missing]);
  }
  // nginx and haproxy packages start system services; the tests run their own instances on free ports.
  for (const svc of ['nginx', 'haproxy']) {
    try {
      execFileSync('sh', ['-c', `command -v service >/dev/null && service ${svc} stop >/dev/null 2>&1 || true`]);
    } catch {
      /* not running: fine */
    }
  }
}

import { runCliSource } from '../../test/harness/cli-source.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminRoutes } from '../api/admin-routes.js';
import { createApiServer } from '../api/api-server.js';
import { ApiAuthenticator } from '../api/auth.js';
import { writeSensorActivity, writeTokensSeen } from '../collector/sensor-activity-store.js';
import { silentLogger } from '../core/logger.js';
import { MemoryStore } from '../store/memory-store.js';
import { iso } from './analyst-cli.js';
import { registerAnalystCommands } from './analyst-commands.js';

const KEYS = { admin: 'admin-key-0123456789', viewer: 'viewer-key-0123456789' };
const MIN = 60_000;

describe('meshward sensors (the sensors seen, from a terminal or a cron job)', () => {
  let app: FastifyInstance;
  let api: string;
  const store = new MemoryStore();
  const now = Date.now();
  const keyFile = (key: string) => {
    const path = join(mkdtempSync(join(tmpdir(), 'mw-cli-')), 'key');
    writeFileSync(path, `${key}\n`);
    return path;
  };
  const adminKey = keyFile(KEYS.admin);
  const viewerKey = keyFile(KEYS.viewer);

  beforeAll(async () => {
    app = await createApiServer({
      auth: new ApiAuthenticator([
        { name: 'ada', key: KEYS.admin, role: 'admin' },
        { name: 'vic', key: KEYS.viewer, role: 'viewer' },
      ]),
      logger: silentLogger,
      health: () => ({ bus: true }),
      plugins: [
        adminRoutes({
          sensorIds: () => ['gw1', 'gw-unused', 'gw-spare'],
          store,
          quietAfterMs: 15 * MIN,
          // an IdP is quiet at night (its own threshold); nginx: no alert, the default threshold
          quietAfterMsByKind: { idp: 240 * MIN, nginx: 0 },
        }),
      ],
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    api = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    await writeSensorActivity(store, [
      { kind: 'envoy_wasm', id: 'edge-1', records: 120, lastAt: now - 10 * MIN },
      { kind: 'envoy_wasm', id: 'edge-2', records: 40, lastAt: now - 120 * MIN },
      { kind: 'idp', id: 'okta', records: 7, lastAt: now - 180 * MIN },
      { kind: 'nginx', id: 'ingress-a', records: 3, lastAt: now - 180 * MIN },
    ]);
    await writeTokensSeen(store, new Map([['gw1', now - 10 * MIN]]));
  });
  afterAll(() => app.close());

  /** runs `meshward sensors <args…>` as the CLI does: what it printed and the exit code it set (0: none) */
  async function run(args: string[], key = adminKey): Promise<{ printed: string; code: number }> {
    let printed = '';
    let code = 0;
    const program = new Command().exitOverride();
    registerAnalystCommands(
      program,
      (t) => {
        printed += t;
      },
      (c) => {
        code = c;
      },
    );
    await program.parseAsync(['sensors', ...args, '--api', api, '--key-file', key], { from: 'user' });
    return { printed, code };
  }

  /** `meshward sensors <args…>` in its own process, as cron runs it */
  const runProcess = (args: string[], key: string) =>
    runCliSource(['sensors', ...args, '--api', api, '--key-file', key]);

  const rows = (printed: string) =>
    printed
      .split('\n\n')[0]
      .trim()
      .split('\n')
      .map((l) => l.split(/ {2,}/));

  it('lists the sensors seen, quiet ones first, then the allowed tokens never seen', async () => {
    const { printed, code } = await run([]);
    expect(code).toBe(0);
    expect(rows(printed)).toEqual([
      ['KIND', 'SENSOR', 'LAST SEEN', 'RECORDS', 'STATE'],
      ['envoy_wasm', 'edge-2', `2h ago (${iso(now - 120 * MIN)})`, '40', 'quiet'],
      ['nginx', 'ingress-a', `3h ago (${iso(now - 180 * MIN)})`, '3', 'quiet (no alert)'],
      ['envoy_wasm', 'edge-1', `10m ago (${iso(now - 10 * MIN)})`, '120', 'ok'],
      ['idp', 'okta', `3h ago (${iso(now - 180 * MIN)})`, '7', 'ok'],
    ]);
    expect(printed.split('\n\n')[1]).toBe('sensor tokens allowed but never seen: gw-unused, gw-spare\n');
    const asJson = JSON.parse((await run(['--json'])).printed);
    expect(asJson.quietAfterMinutes).toBe(15);
    expect(asJson.items).toEqual([{ id: 'gw1', lastSeen: now - 10 * MIN }, { id: 'gw-unused' }, { id: 'gw-spare' }]);
    expect(asJson.seen).toHaveLength(4);
  });

  it('--quiet: only the quiet sensors, exit code 3 while there is one (the real CLI too), then 0', async () => {
    const quiet = await run(['--quiet']);
    expect(quiet.code).toBe(3);
    expect(rows(quiet.printed).map((r) => r.slice(0, 2))).toEqual([
      ['KIND', 'SENSOR'],
      ['envoy_wasm', 'edge-2'],
      ['nginx', 'ingress-a'],
    ]);
    expect(quiet.printed).not.toContain('never seen');
    const asJson = await run(['--quiet', '--json']);
    expect(asJson.code).toBe(3);
    expect(JSON.parse(asJson.printed).seen.map((s: { id: string }) => s.id)).toEqual(['edge-2', 'ingress-a']);

    const [cron, viewer] = await Promise.all([runProcess(['--quiet'], adminKey), runProcess(['--quiet'], viewerKey)]);
    expect(cron.code).toBe(3);
    expect(
      cron.stdout
        .split('\n')
        .slice(1, 3)
        .map((l) => l.split(/\s+/).slice(0, 2).join(' ')),
    ).toEqual(['envoy_wasm edge-2', 'nginx ingress-a']);
    expect(cron.stderr).toBe('');
    // a viewer may not read the sensors: one line with the code, exit 2 (not 1: no answer is no quiet sensor)
    expect(viewer.code).toBe(2);
    expect(viewer.stdout).toBe('');
    expect(viewer.stderr).toMatch(/^meshward: MW_ERR_FORBIDDEN: .*admin.*\n$/);

    // the quiet ones are heard from again
    await writeSensorActivity(store, [
      { kind: 'envoy_wasm', id: 'edge-2', records: 1, lastAt: Date.now() },
      { kind: 'nginx', id: 'ingress-a', records: 1, lastAt: Date.now() },
    ]);
    const none = await run(['--quiet']);
    expect(none.code).toBe(0);
    expect(rows(none.printed)).toEqual([['KIND', 'SENSOR', 'LAST SEEN', 'RECORDS', 'STATE']]);
  }, 60_000);

  it('a viewer key is refused with MW_ERR_FORBIDDEN', async () => {
    await expect(run([], viewerKey)).rejects.toMatchObject({ code: 'MW_ERR_FORBIDDEN' });
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { CapturingIngest } from '../../sensors/common/capturing-ingest.js';
import { readTokenHashKey } from '../../sensors/common/token-hash-key.js';
import { parseConfig as parseEnvoyConfig } from '../../sensors/envoy-wasm/config.js';
import { meshwardSensor } from '../../sensors/gateway/plugin.js';
import { idpSensorFactory } from '../../sensors/idp/factory.js';
import { readApiKeysFile } from '../api/auth.js';
import { readSensorTokensFile } from '../collector/sensor-auth.js';
import { silentLogger } from '../core/logger.js';
import { kongHttpLogPlugin } from '../receivers/kong-http-log/kong-http-log.js';
import { WebhookSink } from '../sinks/webhook/webhook-sink.js';
import { checkSections } from '../app/check-sections.js';
import { resolveConfig } from './load.js';
import { MIN_SECRET_LENGTH, SECRET_TOO_SHORT } from './shared-secret.js';

const short = 's'.repeat(MIN_SECRET_LENGTH - 1);
const enough = 'e'.repeat(MIN_SECRET_LENGTH);
const dir = mkdtempSync(join(tmpdir(), 'mw-shared-secret-'));
const fileWith = (name: string, content: string) => {
  const f = join(dir, name);
  writeFileSync(f, content);
  return f;
};

/** the message a setup refused with, or 'accepted' */
async function outcome(setup: () => unknown): Promise<string> {
  try {
    await setup();
    return 'accepted';
  } catch (err) {
    return (err as Error).message;
  }
}

describe(`every shared secret and HMAC key: at least ${MIN_SECRET_LENGTH} characters, refused in one wording`, () => {
  it('given inline, in each component that takes one', async () => {
    const gateway = (key: string) => async () => {
      const app = Fastify();
      try {
        await app.register(meshwardSensor, { config: { token_hash_key: key }, sink: { push: () => true } });
        await app.ready();
      } finally {
        await app.close();
      }
    };
    const kong = (config: Record<string, unknown>) => async () => {
      const app = Fastify();
      try {
        await app.register(kongHttpLogPlugin, { ingest: new CapturingIngest(), config });
        await app.ready();
      } finally {
        await app.close();
      }
    };
    const receivers = (receivers: Record<string, unknown>) => () =>
      checkSections(resolveConfig({ receivers }), '/etc/meshward.yaml');
    const envoy = (key: string) => () => parseEnvoyConfig({ sensor_token: 'envoy-sensor-token', token_hash_key: key });
    const cases: [string, (v: string) => () => unknown, string][] = [
      ['the Fastify gateway sensor', gateway, 'meshward fastify sensor: token_hash_key: '],
      ['the Kong http-log receiver', (v) => kong({ token_hash_key: v }), 'receivers.kong_http_log: token_hash_key: '],
      [
        'the Kong http-log tokens',
        (v) => kong({ token_hash_key: enough, tokens: [v] }),
        'receivers.kong_http_log: tokens.0: ',
      ],
      [
        'the IdP receiver',
        (v) => receivers({ idp: { token_hash_key: v } }),
        '/etc/meshward.yaml: receivers.idp.token_hash_key: ',
      ],
      [
        'the IdP webhook token',
        (v) => receivers({ idp: { token_hash_key: enough, webhook_token: v } }),
        '/etc/meshward.yaml: receivers.idp.webhook_token: ',
      ],
      ['the Envoy Wasm sensor', envoy, 'envoy_wasm sensor: /token_hash_key: '],
      [
        'a collector sensor token',
        (v) => () => resolveConfig({ collector: { sensor_tokens: [{ id: 's', token: v }] } }, {}, 'meshward.yaml'),
        'collector.sensor_tokens.0.token: ',
      ],
      [
        'an API key',
        (v) => () => resolveConfig({ api: { api_keys: [{ name: 'n', role: 'viewer', key: v }] } }, {}, 'meshward.yaml'),
        'api.api_keys.0.key (n): ',
      ],
    ];
    for (const [what, setup, where] of cases) {
      expect(await outcome(setup(short)), what).toContain(`${where}${SECRET_TOO_SHORT}`);
      expect(await outcome(setup(enough)), what).not.toContain(SECRET_TOO_SHORT);
    }
  });

  it('read from a file, naming the option and the file, never the value', async () => {
    /** what a file holding the value is, how the component reads it, and its refusal of a short one */
    const cases: [string, (v: string) => string, (f: string) => unknown, (f: string) => string][] = [
      [
        'token_hash_key_file',
        (v) => `# the key\n${v}\n`,
        (f) => readTokenHashKey({ token_hash_key_file: f }, 'receivers.kong_http_log'),
        (f) => `receivers.kong_http_log.token_hash_key_file: the value in ${f} ${SECRET_TOO_SHORT}`,
      ],
      [
        'webhook_token_file',
        (v) => `${v}\n`,
        (f) =>
          idpSensorFactory.create(
            { ...idpSensorFactory.defaultConfig, token_hash_key: enough, webhook_token_file: f },
            { app: Fastify(), ingest: new CapturingIngest(), logger: silentLogger },
          ),
        (f) => `receivers.idp.webhook_token_file: the value in ${f} ${SECRET_TOO_SHORT}`,
      ],
      [
        'webhook-sink-secret_file',
        (v) => `${v}\n`,
        (f) =>
          new WebhookSink({
            url: 'https://soc.test',
            format: 'json',
            timeout_ms: 1000,
            secret_file: f,
          }),
        (f) => `sinks.webhook.secret_file: the value in ${f} ${SECRET_TOO_SHORT}`,
      ],
      [
        'sensor_tokens_file',
        (v) => `# sensors\nenvoy-1 ${v}\n`,
        (f) => readSensorTokensFile(f),
        (f) => `${f}:2: the token ${SECRET_TOO_SHORT}`,
      ],
      [
        'api_keys_file',
        (v) => `# keys\nops admin ${v}\n`,
        (f) => readApiKeysFile(f),
        (f) => `${f}:2: the key ${SECRET_TOO_SHORT}`,
      ],
    ];
    for (const [what, content, read, message] of cases) {
      const f = fileWith(what, content(short));
      const refused = await outcome(() => read(f));
      expect(refused, what).toBe(`configuration is invalid: ${message(f)}`);
      expect(refused, what).not.toContain(short);
      writeFileSync(f, content(enough));
      expect(await outcome(() => read(f)), what).toBe('accepted');
    }
  });
});

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { endpointWith } from '../../policy-actions/gateways/control-plane.js';
import { CaepSetAdapter } from '../../policy-actions/idp/caep-set/caep-set.js';
import { KeycloakAdapter } from '../../policy-actions/idp/keycloak/keycloak.js';
import { OAuthRevocationAdapter } from '../../policy-actions/idp/oauth-revocation/oauth-revocation.js';
import { OktaAdapter } from '../../policy-actions/idp/okta/okta.js';
import { testDecision } from '../../policy-actions/testdata/decisions.js';
import { busSensorFactory } from '../../sensors/bus/factory.js';
import { readTokenHashKey } from '../../sensors/common/token-hash-key.js';
import { idpSensorFactory } from '../../sensors/idp/factory.js';
import { readApiKeysFile } from '../api/auth.js';
import { KafkaBusConfigSchema, kafkaBusOptionsFromConfig } from '../bus/kafka-config.js';
import { readSensorTokensFile } from '../collector/sensor-auth.js';
import { silentLogger } from '../core/logger.js';
import { WebhookSink } from '../sinks/webhook/webhook-sink.js';
import { MAX_SECRET_FILE_BYTES, MAX_SECRET_LIST_BYTES, readSecretFile, readSecretFileAsync } from './secret-file.js';
import { ONE_TOPIC_MAPPING } from '../../sensors/bus/testdata/one-topic-mapping.js';

const dir = mkdtempSync(join(tmpdir(), 'mw-secret-file-'));
const fileWith = (name: string, content: string) => {
  const f = join(dir, name);
  writeFileSync(f, content);
  return f;
};
const SECRET = 'sup3r-s3cret-value-0123456789';

/** both readers' answer, or the message each refused with */
const readBoth = async (path: string) => {
  const sync = (() => {
    try {
      return readSecretFile(path, 'x.secret_file');
    } catch (err) {
      return (err as Error).message;
    }
  })();
  const async = await readSecretFileAsync(path, 'x.secret_file').catch((err: Error) => err.message);
  expect(async, path).toBe(sync);
  return sync;
};

describe('a secret file (readSecretFile)', () => {
  it('is the secret with the whitespace around it trimmed: the newline an editor or echo leaves', async () => {
    expect(await readBoth(fileWith('newline', `${SECRET}\n`))).toBe(SECRET);
    expect(await readBoth(fileWith('crlf', `  ${SECRET} \r\n\n`))).toBe(SECRET);
    expect(await readBoth(fileWith('lines', `# comment\n${SECRET}\n`))).toBe(`# comment\n${SECRET}`);
  });

  it('refuses an empty file, naming the option and the file', async () => {
    for (const [name, content] of [
      ['empty', ''],
      ['blank', ' \n\t\r\n'],
    ]) {
      const f = fileWith(name, content);
      expect(await readBoth(f)).toBe(`configuration is invalid: x.secret_file: ${f} is empty`);
    }
  });

  it(`refuses a file over ${MAX_SECRET_FILE_BYTES / 1024} KiB, naming the file, never what it holds`, async () => {
    const most = SECRET.repeat(Math.ceil(MAX_SECRET_FILE_BYTES / SECRET.length)).slice(0, MAX_SECRET_FILE_BYTES);
    expect(await readBoth(fileWith('at-cap', most))).toBe(most);
    const over = fileWith('over-cap', `${most}x`);
    const refused = await readBoth(over);
    expect(refused).toBe(
      `configuration is invalid: x.secret_file: ${over} is larger than 64 KiB: a secret file holds the secret alone`,
    );
    expect(refused).not.toContain(SECRET.slice(0, 8));
  });

  it('takes a list of credentials past 64 KiB (the sensor tokens and API keys files), up to 1 MiB', () => {
    const lines = Array.from({ length: 3000 }, (_, i) => `sensor-${i} token-${i}-0123456789abcdef`);
    const tokens = readSensorTokensFile(fileWith('many-sensor-tokens', `${lines.join('\n')}\n`));
    expect(tokens).toHaveLength(3000);
    expect(tokens[2999]).toMatchObject({ id: 'sensor-2999', token: 'token-2999-0123456789abcdef' });
    const keys = Array.from({ length: 2000 }, (_, i) => `analyst-${i} responder key-${i}-0123456789abcdef`);
    expect(readApiKeysFile(fileWith('many-api-keys', keys.join('\n')))).toHaveLength(2000);
    const huge = fileWith('huge-sensor-tokens', 'x'.repeat(MAX_SECRET_LIST_BYTES + 1));
    expect(() => readSensorTokensFile(huge)).toThrow(`${huge} is larger than 1024 KiB`);
  });

  it('names the option and the file when it cannot be read (missing, a folder)', async () => {
    const missing = join(dir, 'missing');
    expect(await readBoth(missing)).toBe(
      `configuration is invalid: x.secret_file: cannot read ${missing}: ENOENT: no such file or directory, open '${missing}'`,
    );
    const folder = join(dir, 'a-folder');
    mkdirSync(folder);
    expect(await readBoth(folder)).toBe(
      `configuration is invalid: x.secret_file: cannot read ${folder}: EISDIR: illegal operation on a directory, read`,
    );
  });

  it('is how every *_file option holding a secret is read: an empty one is refused, naming the option', async () => {
    const empty = fileWith('empty-secret', '\n');
    const refusal = async (read: () => unknown) => {
      try {
        await read();
      } catch (err) {
        return (err as Error).message;
      }
      return 'accepted';
    };
    const idp = { org_url: 'https://idp.test', client_id: 'meshward', timeout_ms: 1000 };
    const readers: [string, () => unknown][] = [
      ['receivers.idp.token_hash_key_file', () => readTokenHashKey({ token_hash_key_file: empty }, 'receivers.idp')],
      [
        'receivers.idp.webhook_token_file',
        () =>
          idpSensorFactory.create(
            { ...idpSensorFactory.defaultConfig, token_hash_key: 'k'.repeat(16), webhook_token_file: empty },
            { app: undefined as never, ingest: undefined as never, logger: silentLogger },
          ),
      ],
      ['collector.sensor_tokens_file', () => readSensorTokensFile(empty)],
      ['api.api_keys_file', () => readApiKeysFile(empty)],
      [
        'bus.kafka.sasl.password_file',
        () =>
          kafkaBusOptionsFromConfig(
            Value.Default(KafkaBusConfigSchema, {
              brokers: ['kafka-1:9092'],
              sasl: { mechanism: 'plain', username: 'meshward', password_file: empty },
            }) as never,
          ),
      ],
      [
        'receivers.bus/orders.sasl.password_file',
        () =>
          busSensorFactory.create(
            {
              ...busSensorFactory.defaultConfig,
              mapping: ONE_TOPIC_MAPPING,
              sasl: { mechanism: 'plain', username: 'meshward', password_file: empty },
            },
            { sink: { push: () => true }, key: 'bus/orders' },
          ),
      ],
      [
        'sinks.webhook.secret_file',
        () =>
          new WebhookSink({
            url: 'https://soc.test',
            format: 'json',
            timeout_ms: 1000,
            secret_file: empty,
          }),
      ],
      [
        'sinks.webhook.bearer_token_file',
        () =>
          new WebhookSink({
            url: 'https://soc.test',
            format: 'json',
            timeout_ms: 1000,
            bearer_token_file: empty,
          }),
      ],
      [
        'client_secret_file',
        () =>
          new OAuthRevocationAdapter(
            { ...idp, revocation_endpoint: 'https://idp.test/revoke', client_secret_file: empty } as never,
            { logger: silentLogger },
          ),
      ],
      [
        'client_secret_file',
        () =>
          new KeycloakAdapter(
            { ...idp, base_url: 'https://idp.test', realm: 'r', client_secret_file: empty } as never,
            {
              logger: silentLogger,
            },
          ),
      ],
      [
        'token_file',
        () => new OktaAdapter({ ...idp, auth: 'ssws', token_file: empty } as never, { logger: silentLogger }),
      ],
      [
        'bearer_token_file',
        () =>
          new CaepSetAdapter(
            {
              ...idp,
              receiver_url: 'https://r.test',
              issuer: 'i',
              audience: 'a',
              key_jwk: {},
              bearer_token_file: empty,
            } as never,
            { logger: silentLogger },
          ),
      ],
      [
        'idp/caep_set key_file',
        () =>
          new CaepSetAdapter(
            { ...idp, receiver_url: 'https://r.test', issuer: 'i', audience: 'a', key_file: empty } as never,
            { logger: silentLogger },
          ).token(testDecision({ id: 'dec_secret', type: 'revoke_session', scope: 'user', value: 'alice' })),
      ],
      [
        'token_file',
        () => endpointWith('https://kong-admin.test', 1000, { tokenFile: empty, header: 'kong-admin-token' }),
      ],
    ];
    for (const [option, read] of readers) {
      expect(await refusal(read), option).toBe(`configuration is invalid: ${option}: ${empty} is empty`);
    }
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { CapturingIngest } from '../../sensors/common/capturing-ingest.js';
import { silentLogger } from '../core/logger.js';
import { receiverConfigs, startReceivers } from './receivers.js';

const KEY = 'receivers-test-token-hash-key';
const entry = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'receivers', 'kong-http-log', 'testdata', 'single-entry.json'), 'utf8'),
);

describe('HTTP receivers on the collector', () => {
  it('refuses two receivers on one path, or one on a path of the collector, naming both keys', () => {
    expect(() =>
      receiverConfigs({
        kong_http_log: { token_hash_key: KEY },
        'kong_http_log/edge': { token_hash_key: KEY },
      }),
    ).toThrow(
      'configuration is invalid: receivers.kong_http_log/edge.path: /v1/kong/http-log is taken by receivers.kong_http_log (give each HTTP receiver a path of its own)',
    );
    expect(() =>
      receiverConfigs({
        'kong_http_log/a': { token_hash_key: KEY, path: '/hooks/kong' },
        'idp/keycloak': { token_hash_key: KEY, path: '/hooks/kong' },
      }),
    ).toThrow('receivers.idp/keycloak.path: /hooks/kong is taken by receivers.kong_http_log/a');
    expect(() => receiverConfigs({ idp: { token_hash_key: KEY, path: '/v1/records' } })).toThrow(
      'receivers.idp.path: /v1/records is taken by the collector',
    );
  });

  it('runs two Kong receivers side by side, each on its own path, over a real socket', async () => {
    const app = Fastify();
    const ingest = new CapturingIngest();
    const receivers = await startReceivers(
      {
        kong_http_log: { sensor_id: 'kong-public', token_hash_key: KEY },
        'kong_http_log/partners': { sensor_id: 'kong-partners', token_hash_key: KEY, path: '/v1/kong/partners' },
      },
      { app, ingest, logger: silentLogger },
    );
    try {
      const base = await app.listen({ host: '127.0.0.1', port: 0 });
      for (const path of ['/v1/kong/http-log', '/v1/kong/partners']) {
        const res = await fetch(`${base}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(entry),
        });
        expect(res.status, path).toBe(200);
        expect(await res.json()).toEqual({ accepted: 1, rejected: [] });
      }
      expect(ingest.origins.map((o) => o.sensorId)).toEqual(['kong-public', 'kong-partners']);
      expect(receivers.describe).toEqual([
        'kong_http_log: Kong http-log at POST /v1/kong/http-log on the collector',
        'kong_http_log/partners: Kong http-log at POST /v1/kong/partners on the collector',
      ]);
    } finally {
      await receivers.close();
      await app.close();
    }
  });
});

import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PolicyEngine, createPolicyEngine } from '../../policy-actions/engine/engine.js';
import { parsePolicy } from '../../policy-actions/engine/policy.js';
import { RecordingAdapter } from '../../policy-actions/engine/testdata/recording-adapter.js';
import { metricSum } from '../../test/harness/metrics.js';
import { createApiServer } from '../api/api-server.js';
import { ApiAuthenticator } from '../api/auth.js';
import { silentLogger } from '../core/logger.js';
import { MemoryStore } from '../store/memory-store.js';
import { decisionRoutesBehindRoles } from './actions.js';

const VIEWER = 'viewer-key-0123456789';
const RESPONDER = 'responder-key-0123456789';
const policy = parsePolicy(
  readFileSync(join(import.meta.dirname, '../../policy-actions/engine/testdata/policy.yaml'), 'utf8'),
);
const httpErrors = (code: string) => metricSum('meshward_http_errors_total', { server: 'api', code });

let app: FastifyInstance;
let engine: PolicyEngine;
let url: string;

beforeAll(async () => {
  engine = createPolicyEngine({
    store: new MemoryStore(),
    policy,
    adapters: { 'gateways/test': new RecordingAdapter('gateways/test', ['deny', 'rate_limit', 'step_up']) },
    config: { expiry_interval_ms: 0, retry_base_delay_ms: 1 },
  });
  app = await createApiServer({
    auth: new ApiAuthenticator([
      { name: 'vic', key: VIEWER, role: 'viewer' },
      { name: 'ray', key: RESPONDER, role: 'responder' },
    ]),
    logger: silentLogger,
    health: () => ({ bus: true }),
    plugins: [decisionRoutesBehindRoles(engine)],
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await app?.close();
  await engine?.close();
});

describe('the decisions API on the analyst API server', () => {
  it("answers each refusal with its catalogue code, counted once in the API server's meshward_http_errors_total", async () => {
    const refusals: [what: string, path: string, init: RequestInit, status: number, code: string][] = [
      ['no key', '/v1/decisions', {}, 401, 'MW_ERR_UNAUTHENTICATED'],
      [
        'a viewer approving',
        '/v1/decisions/dec_nope/approve',
        { method: 'POST', headers: { 'x-api-key': VIEWER } },
        403,
        'MW_ERR_FORBIDDEN',
      ],
      ['no such decision', '/v1/decisions/dec_nope', { headers: { 'x-api-key': VIEWER } }, 404, 'MW_ERR_NOT_FOUND'],
      [
        'a state that is none',
        '/v1/decisions?state=bogus',
        { headers: { 'x-api-key': VIEWER } },
        400,
        'MW_ERR_BAD_REQUEST',
      ],
      [
        'a body of another type',
        '/v1/decisions/dec_nope/lift',
        { method: 'POST', headers: { 'x-api-key': RESPONDER, 'content-type': 'application/xml' }, body: '<lift/>' },
        400,
        'MW_ERR_BAD_REQUEST',
      ],
    ];
    for (const [what, path, init, status, code] of refusals) {
      const before = await httpErrors(code);
      const res = await fetch(`${url}${path}`, init);
      expect({ status: res.status, json: await res.json() }, what).toEqual({
        status,
        json: { code, message: expect.any(String) },
      });
      expect(await httpErrors(code), what).toBe(before + 1);
    }
  });
});

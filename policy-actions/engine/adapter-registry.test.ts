import { generateKeyPairSync } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../pipeline/core/logger.js';
import { adapterFactory, adapterTypes, closeAdapters, createAdapters, typeOfKey } from './adapter-registry.js';

const privateJwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }) as Record<
  string,
  string
>;

describe('adapter registry', () => {
  it('registers the IdP adapters under their config keys', () => {
    expect(adapterTypes()).toEqual(
      expect.arrayContaining(['idp/caep_set', 'idp/keycloak', 'idp/oauth_revocation', 'idp/okta']),
    );
    expect(typeOfKey('gateways/haproxy/edge-eu')).toBe('gateways/haproxy');
    expect(typeOfKey('idp/okta')).toBe('idp/okta');
  });

  it.each(['idp/oauth_revocation', 'idp/keycloak', 'idp/okta', 'idp/caep_set'])(
    '%s: default config validates against its schema',
    (type) => {
      const f = adapterFactory(type)!;
      expect(Value.Check(f.configSchema, f.defaultConfig)).toBe(true);
    },
  );

  it('creates adapters from an actions section, fills defaults, and ignores non-adapter keys', async () => {
    const adapters = createAdapters(
      {
        policy_file: '/etc/meshward/policy.yaml',
        'idp/oauth_revocation': {
          revocation_endpoint: 'http://127.0.0.1:1/revoke',
          client_id: 'mw',
          client_secret: 's',
        },
        'idp/keycloak/corp': { base_url: 'http://127.0.0.1:1', realm: 'corp', client_id: 'mw', client_secret: 's' },
        'idp/okta': { org_url: 'http://127.0.0.1:1', token: 't' },
        'idp/caep_set': {
          receiver_url: 'http://127.0.0.1:1/e',
          issuer: 'https://mw',
          audience: 'rp',
          key_jwk: privateJwk,
        },
      },
      { logger: silentLogger },
    );
    expect(Object.fromEntries(Object.entries(adapters).map(([k, a]) => [k, a.type]))).toEqual({
      'idp/oauth_revocation': 'idp/oauth_revocation',
      'idp/keycloak/corp': 'idp/keycloak',
      'idp/okta': 'idp/okta',
      'idp/caep_set': 'idp/caep_set',
    });
    expect((await adapters['idp/caep_set'].check()).ok).toBe(true);
    await closeAdapters(adapters);
    await closeAdapters(adapters);
  });

  it('names the bad key in config errors', () => {
    expect(() => createAdapters({ 'idp/nope': {} }, { logger: silentLogger })).toThrow(
      /actions\.idp\/nope: unknown adapter type/,
    );
    expect(() => createAdapters({ 'gateways/haproxy/ ': {} }, { logger: silentLogger })).toThrow(
      /actions\.gateways\/haproxy\/ : the name after the slash is empty/,
    );
    expect(() =>
      createAdapters({ 'idp/okta': { org_url: 'http://x', token: 't', auth: 'basic' } }, { logger: silentLogger }),
    ).toThrow(/actions\.idp\/okta\.auth/);
    expect(() =>
      createAdapters(
        { 'idp/oauth_revocation': { revocation_endpoint: 'http://x', client_id: 'mw' } },
        { logger: silentLogger },
      ),
    ).toThrow(/client_secret or client_secret_file is required/);
  });

  it('refuses a list where a map or an adapter section is expected, naming the key', () => {
    // before: `routes: [x]` became `{"0": x}` and `[…]` for a section `{"0": …}`, and Kong took them
    for (const [section, problem] of [
      [
        { 'gateways/kong': { routes: ['GET /users'] } },
        'actions.gateways/kong.routes: Expected an object (a map of keys to strings), got an array',
      ],
      [
        { 'gateways/istio/mesh': { selector: ['app'] } },
        'actions.gateways/istio/mesh.selector: Expected an object (a map of keys to strings), got an array',
      ],
      [{ 'gateways/kong/edge': [] }, 'actions.gateways/kong/edge: Expected an object, got an array'],
    ] as const) {
      expect(() => createAdapters(section, { logger: silentLogger }), JSON.stringify(section)).toThrow(
        expect.objectContaining({ code: 'MW_ERR_CONFIG_INVALID', message: expect.stringContaining(problem) }),
      );
    }
  });
});

import { generateKeyPairSync } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type Configuration } from 'oidc-provider';

/**
 * A real oidc-provider v9 instance on a free loopback port, for tests that talk to an identity provider.
 *
 * One confidential client (client_secret_basic) can use the client_credentials grant, introspect and revoke any token
 * issued by this provider (the harness relaxes the default "only the owning client may revoke" policy so that a
 * meshward client can act on end-user tokens, as a privileged client would be allowed to at a real IdP).
 * End-user access tokens are issued directly through the provider's models (`issueAccessToken`), which skips the
 * interactive login without changing anything about how the tokens are stored, introspected or revoked.
 */
export interface OidcProviderHarness {
  /** e.g. http://127.0.0.1:41234 */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** RFC 7009 / RFC 7662 endpoints and the token endpoint */
  endpoints: { token: string; introspection: string; revocation: string };
  /** the running provider, for event subscriptions (`provider.on('grant.success', ...)`) */
  provider: Provider;
  /** issue an opaque access token for `sub`; every call gets its own grant unless `grantId` is given */
  issueAccessToken(sub: string, opts?: IssueOptions): Promise<string>;
  /** POST /token grant_type=client_credentials with the given (or the harness) credentials; returns status + JSON */
  clientCredentials(opts?: { clientId?: string; clientSecret?: string; scope?: string }): Promise<{
    status: number;
    body: Record<string, unknown>;
  }>;
  /** RFC 7662 introspection as the harness client */
  introspect(token: string): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export interface IssueOptions {
  scope?: string;
  /** session id carried in the token (`sid`), so tokens can be grouped by session */
  sessionId?: string;
  /** lifetime in seconds (default 3600) */
  ttlSeconds?: number;
  grantId?: string;
  /** the client the token is issued to (default: the harness client) */
  clientId?: string;
}

export interface OidcProviderOptions {
  clientId?: string;
  clientSecret?: string;
  /** extra clients registered as-is */
  extraClients?: Configuration['clients'];
}

export async function startOidcProvider(opts: OidcProviderOptions = {}): Promise<OidcProviderHarness> {
  const clientId = opts.clientId ?? 'meshward';
  const clientSecret = opts.clientSecret ?? 'meshward-test-secret-0123456789abcdef';
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server: Server = createServer((req, res) => {
    if (handler) handler(req, res);
    else {
      res.statusCode = 503;
      res.end();
    }
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;

  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signingJwk = { ...privateKey.export({ format: 'jwk' }), alg: 'ES256', use: 'sig', kid: 'harness-es256' };

  const ttlById = new Map<string, number>();
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        grant_types: ['client_credentials', 'authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1/cb'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
      ...(opts.extraClients ?? []),
    ],
    jwks: { keys: [signingJwk] },
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: async () => true },
      revocation: { enabled: true, allowedPolicy: async () => true },
    },
    scopes: ['openid', 'offline_access', 'api:read', 'api:write'],
    ttl: {
      AccessToken: (_ctx, token) => ttlById.get(token.jti) ?? 3600,
      ClientCredentials: 600,
      Grant: 3600,
      Session: 3600,
      Interaction: 600,
      AuthorizationCode: 60,
      IdToken: 3600,
    },
    findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  });
  provider.proxy = false;
  // composed per request so middleware added later with provider.use() (e.g. the IdP event bridge) takes effect
  handler = (req, res) => void provider.callback()(req, res);

  const endpoints = {
    token: `${issuer}/token`,
    introspection: `${issuer}/token/introspection`,
    revocation: `${issuer}/token/revocation`,
  };
  const basic = (id: string, secret: string) =>
    `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

  const harness: OidcProviderHarness = {
    issuer,
    clientId,
    clientSecret,
    endpoints,
    provider,
    async issueAccessToken(sub, o = {}) {
      const client = await provider.Client.find(o.clientId ?? clientId);
      if (!client) throw new Error(`oidc harness: unknown client ${o.clientId}`);
      let grantId = o.grantId;
      if (!grantId) {
        const grant = new provider.Grant({ accountId: sub, clientId: client.clientId });
        grant.addOIDCScope(o.scope ?? 'openid api:read');
        grantId = await grant.save();
      }
      const token = new provider.AccessToken({
        client,
        accountId: sub,
        grantId,
        gty: 'authorization_code',
        scope: o.scope ?? 'openid api:read',
        ...(o.sessionId ? { sid: o.sessionId } : {}),
      });
      if (o.ttlSeconds) ttlById.set(token.jti, o.ttlSeconds);
      return token.save();
    },
    async clientCredentials(o = {}) {
      const res = await fetch(endpoints.token, {
        method: 'POST',
        headers: {
          authorization: basic(o.clientId ?? clientId, o.clientSecret ?? clientSecret),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', ...(o.scope ? { scope: o.scope } : {}) }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
    async introspect(token) {
      const res = await fetch(endpoints.introspection, {
        method: 'POST',
        headers: {
          authorization: basic(clientId, clientSecret),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token }),
      });
      if (res.status !== 200) throw new Error(`oidc harness: introspection answered ${res.status}`);
      return (await res.json()) as Record<string, unknown>;
    },
    async stop() {
      if (!server.listening) return;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return harness;
}

import { createHmac } from 'node:crypto';
import { testDecision } from '../testdata/decisions.js';
import type { Decision, EnforcedDecision } from '../../pipeline/core/decision.js';
import { createServer, request, type Server } from 'node:http';

/** Helpers for the gateway tests (real HAProxy / nginx in front of a tiny backend). Not used by adapter code. */

export const TEST_TOKEN_KEY = 'meshward-test-key';

/** the meshward keyed token hash, computed here independently of the code under test */
export const tokenHash = (token: string, key = TEST_TOKEN_KEY): string =>
  `h1:${createHmac('sha256', key).update(token).digest('hex').slice(0, 32)}`;

/** an unsigned JWT-shaped bearer token with this `sub` (gateways read the claim, the backend would verify it) */
export const jwtWithSub = (sub: string): string => {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub })}.x`;
};

/** a backend answering 200 "ok" to everything; counts requests */
export async function startBackend(): Promise<{ server: Server; port: number; hits: () => number }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no backend port');
  return { server, port: addr.port, hits: () => hits };
}

export interface Probe {
  path?: string;
  method?: string;
  token?: string;
  localAddress?: string;
  headers?: Record<string, string>;
}

/** one request through the gateway; resolves with the status code */
export function status(port: number, probe: Probe = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...probe.headers };
    if (probe.token) headers.authorization = `Bearer ${probe.token}`;
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: probe.path ?? '/',
        method: probe.method ?? 'GET',
        headers,
        agent: false,
        localAddress: probe.localAddress,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.setTimeout(5000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** poll until the status is `want` (nginx applies a reload in the background); resolves with the last status */
export async function waitForStatus(port: number, want: number, probe: Probe = {}, timeoutMs = 5000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await status(port, probe);
    if (got === want || Date.now() > deadline) return got;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** a deny decision for tests */
export function denyDecision(
  id: string,
  scope: Decision['scope'],
  value: string,
  extra: Partial<Decision> = {},
): EnforcedDecision {
  return testDecision({ id, type: 'deny', scope, value, until: Date.now() + 600_000, ...extra });
}

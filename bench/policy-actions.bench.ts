/**
 * Policy-action latency: time from `engine.handleAlert(alert)` to the IdP adapter's apply completing, for the
 * idp/oauth_revocation adapter against a local oidc-provider (real HTTP on loopback). Baseline in the same run: the
 * bare RFC 7009 revocation POST without the engine, so the ratio shows what the engine adds (store writes, audit,
 * locking) on top of the IdP round trips. Run: npm run build && node dist/bench/policy-actions.bench.js [count]
 */
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { silentLogger } from '../pipeline/core/logger.js';
import { MemoryStore } from '../pipeline/store/memory-store.js';
import { createAdapters } from '../policy-actions/engine/adapter-registry.js';
import { createPolicyEngine } from '../policy-actions/engine/engine.js';
import { parsePolicy } from '../policy-actions/engine/policy.js';
import { startOidcProvider } from '../test/harness/oidc-provider.js';

const N = Number(process.argv[2] ?? 300);
const WARMUP = 20;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const fmt = (ms: number) => `${ms.toFixed(2)} ms`;

async function main() {
  const idp = await startOidcProvider();
  const basic = `Basic ${Buffer.from(`${idp.clientId}:${idp.clientSecret}`).toString('base64')}`;
  const policy = parsePolicy(
    'guardrails: { max_actions_per_minute: 100000 }\nrules:\n  - name: revoke\n    match: { kinds: [token_mismatch] }\n    action: { type: revoke_token, ttl: 1h }\n',
  );

  const results: Record<string, number[]> = {};
  const run = async (name: string, fn: (token: string, i: number) => Promise<void>) => {
    const tokens = await Promise.all(
      Array.from({ length: N + WARMUP }, (_, i) => idp.issueAccessToken(`user-${name}-${i}`)),
    );
    const times: number[] = [];
    for (let i = 0; i < tokens.length; i++) {
      const t0 = performance.now();
      await fn(tokens[i], i);
      if (i >= WARMUP) times.push(performance.now() - t0);
    }
    results[name] = times;
  };

  // baseline: the bare revocation request
  await run('bare_revoke', async (token) => {
    const res = await fetch(idp.endpoints.revocation, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
    });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`revoke ${res.status}`);
  });

  for (const withIntrospection of [false, true]) {
    const store = new MemoryStore();
    const adapters = createAdapters(
      {
        'idp/oauth_revocation': {
          revocation_endpoint: idp.endpoints.revocation,
          ...(withIntrospection ? { introspection_endpoint: idp.endpoints.introspection } : {}),
          client_id: idp.clientId,
          client_secret: idp.clientSecret,
        },
      },
      { logger: silentLogger },
    );
    const engine = createPolicyEngine({ store, policy, adapters, config: { expiry_interval_ms: 0 } });
    const name = withIntrospection ? 'engine_introspect_then_revoke' : 'engine_revoke';
    await run(name, async (token, i) => {
      const now = Date.now();
      const [d] = await engine.handleAlert({
        v: 1,
        id: `alert-${name}-${i}`,
        kind: 'token_mismatch',
        severity: 'high',
        state: 'open',
        service: 'orders',
        subject: { type: 'token', value: token },
        firstSeen: now,
        lastSeen: now,
        count: 1,
        summary: 'bench',
        evidence: { recordIds: [], metrics: {} },
        updatedAt: now,
      });
      if (d?.state !== 'active') throw new Error(`decision not active: ${d?.state}`);
    });
    await engine.close();
    await store.close();
  }
  await idp.stop();

  const base = pct(results.bare_revoke, 50);
  console.log(
    `policy-actions bench: node ${process.version}, ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, n=${N} per case`,
  );
  console.log('case                              p50         p99         mean        p50 / bare_revoke p50');
  for (const [name, xs] of Object.entries(results)) {
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(
      `${name.padEnd(34)}${fmt(pct(xs, 50)).padEnd(12)}${fmt(pct(xs, 99)).padEnd(12)}${fmt(mean).padEnd(12)}${(pct(xs, 50) / base).toFixed(2)}x`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

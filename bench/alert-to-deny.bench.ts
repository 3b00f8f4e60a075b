/**
 * Alert → deny latency at a real HAProxy (Debian's haproxy, deploy/haproxy/haproxy-deny.cfg, Runtime API).
 * Run from dist/: `npm run build && node dist/bench/alert-to-deny.bench.js` (BENCH_DECISIONS, default 200).
 *
 *   baseline:  one request through HAProxy to a Node backend (the cost of one poll)
 *   adapter:   HaproxyDenyAdapter.apply(decision) until a request with that token gets 403
 *   engine:    engine.handleAlert(alert) (policy match, guardrails, store, audit, adapter) until 403
 * Each decision denies a fresh token, so every measurement is a new map entry, and polling starts right after
 * apply/handleAlert resolve: the figure is how long until the deny is effective for the next request.
 */
import { execSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Alert } from '../pipeline/core/alert.js';
import { silentLogger } from '../pipeline/core/logger.js';
import { MemoryStore } from '../pipeline/store/memory-store.js';
import { createPolicyEngine } from '../policy-actions/engine/engine.js';
import { parsePolicy } from '../policy-actions/engine/policy.js';
import { create as createHaproxy, defaultConfig } from '../policy-actions/gateways/haproxy/factory.js';
import { denyDecision, startBackend, status, TEST_TOKEN_KEY, tokenHash } from '../policy-actions/gateways/test-http.js';
import { startHaproxy } from '../test/harness/haproxy.js';

const N = Number(process.env.BENCH_DECISIONS ?? 200);

const quantile = (sorted: number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];

function summary(name: string, ms: number[], baseline?: number): string {
  const s = [...ms].sort((a, b) => a - b);
  const p50 = quantile(s, 0.5);
  const p99 = quantile(s, 0.99);
  const ratio = baseline ? `  (p50 = ${(p50 / baseline).toFixed(1)}x baseline)` : '';
  return `${name.padEnd(34)} n=${s.length}  p50 ${p50.toFixed(2)} ms  p99 ${p99.toFixed(2)} ms  max ${s[s.length - 1].toFixed(2)} ms${ratio}`;
}

/** time from `act` starting until a request with `token` is denied; also how many polls it took */
async function untilDenied(port: number, token: string, act: () => Promise<unknown>): Promise<[number, number]> {
  const t0 = performance.now();
  await act();
  let polls = 0;
  for (;;) {
    polls++;
    if ((await status(port, { token })) === 403) return [performance.now() - t0, polls];
    if (performance.now() - t0 > 10_000) throw new Error(`deny for ${token} not effective after 10 s`);
  }
}

async function main(): Promise<void> {
  const backend = await startBackend();
  const hap = await startHaproxy({ backend: `127.0.0.1:${backend.port}`, tokenKey: TEST_TOKEN_KEY });
  const dataDir = mkdtempSync(join(tmpdir(), 'mw-bench-engine-'));
  try {
    const adapter = createHaproxy(
      { ...defaultConfig, socket: hap.adminSocket, map_dir: hap.mapDir },
      { logger: silentLogger },
    );
    // warm up
    for (let i = 0; i < 20; i++) await status(hap.port, { token: `warm-${i}` });

    const base: number[] = [];
    for (let i = 0; i < N; i++) {
      const t0 = performance.now();
      await status(hap.port, { token: `base-${i}` });
      base.push(performance.now() - t0);
    }
    const baseP50 = quantile(
      [...base].sort((a, b) => a - b),
      0.5,
    );

    const viaAdapter: number[] = [];
    const applyOnly: number[] = [];
    let polls = 0;
    for (let i = 0; i < N; i++) {
      const token = `adapter-${i}`;
      const d = denyDecision(`bench-a-${i}`, 'token', tokenHash(token));
      const [ms, p] = await untilDenied(hap.port, token, async () => {
        const t = performance.now();
        await adapter.apply(d);
        applyOnly.push(performance.now() - t);
      });
      viaAdapter.push(ms);
      polls += p;
    }
    const adapterPolls = polls / N;

    const store = new MemoryStore({ dataDir });
    const policy = parsePolicy(
      [
        'version: 1',
        'guardrails: { max_actions_per_minute: 100000 }',
        'rules:',
        '  - name: deny-abusive-token',
        '    match: { kinds: [enumeration] }',
        '    action: { type: deny, scope: token, ttl: 10m }',
      ].join('\n'),
    );
    const engine = createPolicyEngine({
      store,
      policy,
      adapters: { 'gateways/haproxy': adapter },
      logger: silentLogger,
      config: { expiry_interval_ms: 0 },
    });
    const viaEngine: number[] = [];
    polls = 0;
    for (let i = 0; i < N; i++) {
      const token = `engine-${i}`;
      const now = Date.now();
      const alert: Alert = {
        v: 1,
        id: `bench-alert-${i}`,
        kind: 'enumeration',
        severity: 'high',
        state: 'open',
        service: 'orders',
        subject: { type: 'token', value: tokenHash(token) },
        firstSeen: now,
        lastSeen: now,
        count: 1,
        summary: 'bench',
        evidence: { recordIds: [], metrics: {} },
        updatedAt: now,
      };
      const [ms, p] = await untilDenied(hap.port, token, async () => {
        const decisions = await engine.handleAlert(alert);
        if (decisions.length !== 1 || decisions[0].state !== 'active') {
          throw new Error(`engine did not enforce: ${JSON.stringify(decisions.map((d) => d.state))}`);
        }
      });
      viaEngine.push(ms);
      polls += p;
    }
    await engine.close();
    await store.close();

    let commit = 'unknown';
    try {
      commit = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim();
    } catch {
      // not a checkout
    }
    const haproxyVersion = execSync('haproxy -v').toString().split('\n')[0];
    console.log(
      `alert-to-deny at a real HAProxy — node ${process.version}, ${cpus()[0]?.model ?? '?'} x${cpus().length}`,
    );
    console.log(`${haproxyVersion}; commit ${commit}; ${N} decisions per row, each a new token`);
    console.log(summary('baseline: one request via HAProxy', base));
    console.log(summary('adapter.apply resolves', applyOnly, baseP50));
    console.log(summary('adapter.apply → 403', viaAdapter, baseP50));
    console.log(`  polls until 403: ${adapterPolls.toFixed(2)} on average (1.00 = effective on the first request)`);
    console.log(summary('engine.handleAlert → 403', viaEngine, baseP50));
    console.log(`  polls until 403: ${(polls / N).toFixed(2)} on average`);
    console.log(`HAProxy pid unchanged (no reload): ${hap.child.exitInfo() === null}`);
  } finally {
    await hap.stop();
    await new Promise((r) => backend.server.close(r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../policy-actions/engine/audit.js';
import { parseShowMap, runtimeCommand } from '../../policy-actions/gateways/haproxy/runtime-api.js';
import { startBackend, status } from '../../policy-actions/gateways/test-http.js';
import type { Alert } from '../../pipeline/core/alert.js';
import type { Decision } from '../../pipeline/core/decision.js';
import { stableId } from '../../pipeline/core/ids.js';
import { type HaproxyInstance, startHaproxy } from '../harness/haproxy.js';
import { type KafkaRedis, startKafkaRedis } from '../harness/kafka-redis.js';
import { startRole, writeConfig } from '../harness/meshward.js';
import { tails, waitFor } from '../harness/pipeline-client.js';
import type { Child } from '../harness/processes.js';

const API_KEY = 'actions-kill-viewer-key-0123456789';
const RULE = 'deny-enumerators';
const N = 60;
const ADAPTER = 'gateways/haproxy';
/** a loopback source address no alert names: HAProxy must let it through */
const BYSTANDER = '127.0.0.250';

/** the decision record the engine keeps in the store (only the fields this test reads) */
interface StoredDecision {
  decision: Decision;
  applied: string[];
  applying: boolean;
}

/** `n` enumeration alerts, each about its own loopback source address (127.0.0.10, 127.0.0.11, ...) */
function enumerationAlerts(n: number): Alert[] {
  const at = Date.now();
  return Array.from({ length: n }, (_, i) => ({
    v: 1,
    id: stableId('alert', 'actions-kill', i),
    kind: 'enumeration',
    severity: 'high',
    state: 'open',
    service: 'orders',
    endpoint: 'GET /orders/{id}',
    subject: { type: 'ip', value: `127.0.0.${10 + i}` },
    firstSeen: at,
    lastSeen: at,
    count: 1,
    summary: `enumeration of /orders from 127.0.0.${10 + i}`,
    evidence: { recordIds: [], metrics: { distinctIds: 400 } },
    updatedAt: at,
  }));
}

/**
 * The policy engine in its own process (`meshward actions`) is SIGKILLed while it works through a stream of alerts,
 * at the worst moment: HAProxy is frozen (SIGSTOP) so the engine is stuck inside an adapter call, with decisions
 * behind it done but not committed on the alerts topic and alerts ahead of it not seen. A new process takes over the
 * consumer group: every alert must end with exactly one decision, enforced at a real HAProxy, applied exactly once.
 */
describe('actions: SIGKILL of the actions process mid-stream; restart resumes, no duplicate action', () => {
  let engines: KafkaRedis | undefined;
  let backend: { server: Server; port: number } | undefined;
  let hap: HaproxyInstance | undefined;
  let redis: Redis | undefined;
  let config: string;
  const children: Child[] = [];

  beforeAll(async () => {
    backend = await startBackend();
    [engines, hap] = await Promise.all([
      startKafkaRedis({ extraTopics: [{ name: 'meshward.decisions', partitions: 1 }] }),
      startHaproxy({ backend: `127.0.0.1:${backend.port}` }),
    ]);
    redis = new Redis(engines.redis.url, { maxRetriesPerRequest: 1 });
    const dir = mkdtempSync(join(tmpdir(), 'meshward-policy-'));
    const policyFile = join(dir, 'policy.yaml');
    writeFileSync(
      policyFile,
      [
        'version: 1',
        'guardrails:',
        '  max_actions_per_minute: 1000',
        'rules:',
        `  - name: ${RULE}`,
        '    match: { kinds: [enumeration] }',
        '    action: { type: deny, scope: ip, ttl: 1h }',
        '',
      ].join('\n'),
    );
    config = writeConfig({
      log_level: 'warn',
      ...engines.sections(),
      api: { listen: '127.0.0.1:0', api_keys: [{ name: 'actions-kill', role: 'viewer', key: API_KEY }] },
      actions: {
        policy_file: policyFile,
        listen: '127.0.0.1:0',
        group_id: 'actions-kill',
        // an apply older than this is taken for one a dead engine left behind (default a minute). Longer than the
        // new process takes to get the alerts again, so its replay of a cut-off alert comes too early to resume it
        resume_after_ms: 15_000,
        [ADAPTER]: { socket: hap.adminSocket, map_dir: hap.mapDir },
      },
    });
  }, 60_000);

  afterAll(async () => {
    hap?.child.kill('SIGCONT');
    await Promise.allSettled(children.map((c) => c.stop(3000)));
    redis?.disconnect();
    await Promise.allSettled([engines?.stop(), hap?.stop()]);
    if (backend) await new Promise((r) => backend?.server.close(r));
  });

  const get = async <T>(url: string): Promise<T> => {
    const res = await fetch(url, { headers: { 'x-api-key': API_KEY } });
    if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };

  async function auditLog(apiUrl: string): Promise<AuditEntry[]> {
    const out: AuditEntry[] = [];
    let after = '';
    for (;;) {
      const page = await get<{ entries: AuditEntry[]; next?: string }>(
        `${apiUrl}/v1/audit?limit=1000${after ? `&after=${encodeURIComponent(after)}` : ''}`,
      );
      out.push(...page.entries);
      if (page.entries.length === 0 || !page.next) return out;
      after = page.next;
    }
  }

  /** the decision records in the store, read straight from Redis (the process serving the API is dead) */
  async function storedDecisions(): Promise<StoredDecision[]> {
    const ids = await redis!.zrange('pa:idx:created', '0', '-1');
    if (ids.length === 0) return [];
    const raws = await redis!.mget(ids.map((id) => `pa:dec:${id}`));
    return raws.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as StoredDecision);
  }

  it('every alert gets exactly one decision, enforced at HAProxy, applied once', async () => {
    const alerts = enumerationAlerts(N);
    const ips = alerts.map((a) => a.subject!.value);
    const expectedIds = alerts.map((a) => stableId('dec', a.id, RULE)).sort();
    const ipOf = new Map(alerts.map((a) => [stableId('dec', a.id, RULE), a.subject!.value]));

    // nothing is denied yet
    expect(await status(hap!.port, { localAddress: ips[0] })).toBe(200);

    const first = await startRole('actions', config);
    children.push(first.child);

    const client = new Kafka({ brokers: engines!.kafka.bootstrap, logLevel: logLevel.NOTHING });
    const producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    try {
      await producer.send({
        topic: 'meshward.alerts',
        messages: alerts.map((a) => ({ key: a.id, value: JSON.stringify(a) })),
      });
    } finally {
      await producer.disconnect();
    }

    // a third of the alerts decided: freeze HAProxy, so the engine stops inside its next adapter call
    await waitFor(
      'the first decisions',
      async () => ((await redis!.zcard('pa:idx:created')) >= 20 ? true : undefined),
      30_000,
      5,
    );
    hap!.child.kill('SIGSTOP');
    try {
      await waitFor(
        'a decision stuck in its apply',
        async () => ((await storedDecisions()).some((r) => r.applying) ? true : undefined),
        10_000,
        50,
      );
      // let both partitions' handlers reach the frozen gateway
      await new Promise((r) => setTimeout(r, 300));
      first.child.kill('SIGKILL');
      expect(await first.child.exited).toEqual({ code: null, signal: 'SIGKILL' });
    } finally {
      hap!.child.kill('SIGCONT');
    }

    // the kill landed mid-stream: some alerts decided and enforced, some decided and not enforced, some not seen
    const atKill = await storedDecisions();
    const doneAtKill = atKill.filter((r) => !r.applying && r.applied.includes(ADAPTER));
    const stuckAtKill = atKill.filter((r) => r.applying);
    expect(doneAtKill.length, 'decisions applied before the kill').toBeGreaterThan(0);
    expect(stuckAtKill.length, 'decisions cut off mid-apply').toBeGreaterThan(0);
    expect(atKill.length, 'alerts not yet seen at the kill').toBeLessThan(N);

    const second = await startRole('actions', config);
    children.push(second.child);
    const apiUrl = second.url as string;

    // the new process takes over the group and works through the rest of the stream
    let decisions: Decision[] = [];
    let audit: AuditEntry[] = [];
    const appliedOk = () =>
      new Set(
        audit
          .filter((e) => e.action === 'adapter_apply' && e.adapter === ADAPTER && e.outcome === 'ok')
          .map((e) => e.decisionId),
      );
    await waitFor(
      'every alert decided and applied',
      async () => {
        decisions = (await get<{ decisions: Decision[] }>(`${apiUrl}/v1/decisions?limit=1000`)).decisions;
        audit = await auditLog(apiUrl);
        return decisions.length >= N && appliedOk().size >= N ? true : undefined;
      },
      45_000,
      250,
    ).catch(() => undefined);

    // 1. one decision per alert: none missing, none extra, each a deny of the alert's address, active
    const why = tails([second.child]);
    expect(decisions.map((d) => d.id).sort(), why).toEqual(expectedIds);
    for (const d of decisions) {
      expect({
        id: d.id,
        type: d.type,
        scope: d.scope,
        value: d.value,
        state: d.state,
        simulated: d.simulated,
      }).toEqual({ id: d.id, type: 'deny', scope: 'ip', value: ipOf.get(d.id), state: 'active', simulated: false });
    }

    // 2. the audit log: each decision created once and applied at HAProxy exactly once (no duplicate action)
    const countBy = (action: string, outcome?: string) => {
      const counts = new Map<string, number>(expectedIds.map((id) => [id, 0]));
      for (const e of audit) {
        if (e.action !== action || (outcome && e.outcome !== outcome)) continue;
        if (action === 'adapter_apply' && e.adapter !== ADAPTER) continue;
        counts.set(e.decisionId, (counts.get(e.decisionId) ?? 0) + 1);
      }
      return Object.fromEntries(counts);
    };
    const once = Object.fromEntries(expectedIds.map((id) => [id, 1]));
    expect(countBy('decision_created'), 'decision_created entries per decision').toEqual(once);
    expect(countBy('adapter_apply', 'ok'), 'successful HAProxy applies per decision').toEqual(once);
    expect(audit.filter((e) => e.action === 'failed')).toEqual([]);
    // the applies the kill cut off were resumed by the new process, once each; nothing else needed resuming
    expect(countBy('apply_resumed'), 'resumed applies per decision').toEqual(
      Object.fromEntries(expectedIds.map((id) => [id, stuckAtKill.some((r) => r.decision.id === id) ? 1 : 0])),
    );

    // 3. at HAProxy: one map entry per address, and a request from each address is refused, a bystander's is not
    const entries = parseShowMap(
      await runtimeCommand({ target: hap!.adminSocket, timeoutMs: 2000 }, `show map ${hap!.mapDir}/deny-ip.map`),
    );
    expect(entries.map((e) => e.key).sort()).toEqual([...ips].sort());
    const statuses = Object.fromEntries(
      await Promise.all(ips.map(async (ip) => [ip, await status(hap!.port, { localAddress: ip })] as const)),
    );
    expect(statuses).toEqual(Object.fromEntries(ips.map((ip) => [ip, 403])));
    expect(await status(hap!.port, { localAddress: BYSTANDER })).toBe(200);

    // 4. the store agrees: every record finished its apply at HAProxy
    const stored = await storedDecisions();
    expect(stored.filter((r) => r.applying || !r.applied.includes(ADAPTER)).map((r) => r.decision.id)).toEqual([]);
  }, 90_000);
});

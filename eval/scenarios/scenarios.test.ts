import { describe, expect, it } from 'vitest';
import { replay } from '../../pipeline/correlator/replay.js';
import type { Alert } from '../../pipeline/core/alert.js';
import type { ApiCallRecord } from '../../pipeline/core/record.js';
import { actorOf, isMeshHop } from '../../pipeline/detectors/shared/record-fields.js';
import { credentialOf } from '../../pipeline/inventory/call-credential.js';
import type { AnomalyLabel } from '../../pipeline/simulate/labels.js';
import { METRIC_KINDS, TRACKER_KINDS } from '../../pipeline/simulate/anomalies/index.js';
import { simulate } from '../../pipeline/simulate/simulate.js';
import { trackerDetectors } from './config.js';
import { matchesAlsoKind, matchesPrimary, matchesSecondary } from './match.js';
import { defaultPlans, replayPartitioned, runPlan, START } from './evaluate.js';

/** short learning periods so a 24-minute simulation is enough (the full evaluation is `npm run eval:scenarios`) */
const SHORT = {
  param_profile: { learning_records: 150, learning_ms: 6 * 60_000 },
  new_caller: { learning_ms: 6 * 60_000 },
  fan_out: { min_traces: 20 },
  unauthenticated_access: { learning_ms: 6 * 60_000 },
};
const KINDS = new Set<string>(TRACKER_KINDS);

/** one tracker anomaly of `kind` simulated (12 minutes of warm-up), replayed; its label, records and primary alert */
async function injected(
  kind: string,
  variant?: string,
): Promise<{ label: AnomalyLabel; records: ApiCallRecord[]; alert: Alert }> {
  const sim = simulate({
    seed: 81,
    start: START,
    durationMs: 30 * 60_000,
    rps: 6,
    anomalies: [{ kind, ...(variant ? { variant } : {}) }],
    warmupShare: 0.4,
  });
  const alerts = await replay(sim.records, { detectors: trackerDetectors(SHORT) });
  const [label] = sim.labels;
  const found = alerts.filter((a) => matchesPrimary(a, label));
  expect(found).toHaveLength(1);
  return { label, records: sim.records, alert: found[0] };
}

/** the records of the label's subject to its endpoint during the anomaly */
const madeBy = (label: AnomalyLabel, records: ApiCallRecord[]) =>
  records.filter((r) => {
    const actor = actorOf(r);
    return (
      r.service === label.service &&
      `${r.method} ${r.route}` === label.endpoint &&
      actor?.type === label.subject?.type &&
      actor?.value === label.subject?.value &&
      r.ts >= label.start &&
      r.ts <= label.end
    );
  });

describe('tracker scenarios on simulated traffic', () => {
  it('finds every injected tracker anomaly, and nothing else of those kinds', async () => {
    const sim = simulate({
      seed: 77,
      start: START,
      durationMs: 24 * 60_000,
      rps: 6,
      anomalies: TRACKER_KINDS.map((kind) => ({ kind })),
      warmupShare: 0.35,
    });
    const alerts = (await replay(sim.records, { detectors: trackerDetectors(SHORT) })).filter((a) => KINDS.has(a.kind));
    for (const label of sim.labels) {
      expect(
        alerts.some((a) => matchesPrimary(a, label)),
        `${label.kind} ${JSON.stringify(label.subject)} ${label.note ?? ''}`,
      ).toBe(true);
    }
    const unexplained = alerts.filter(
      (a) => !sim.labels.some((l) => matchesPrimary(a, l) || matchesSecondary(a, l) || matchesAlsoKind(a, l)),
    );
    expect(unexplained.map((a) => `${a.kind} ${a.service} ${a.summary}`)).toEqual([]);
  });

  it('as 12 partitions see it (Kafka): fan_out finds the amplified requests on the trace stream, one alert, and misses them without', async () => {
    const sim = simulate({
      seed: 81,
      start: START,
      durationMs: 30 * 60_000,
      rps: 6,
      anomalies: [{ kind: 'fan_out' }],
      warmupShare: 0.4,
    });
    const [label] = sim.labels;
    const alerts = async (keyed: boolean, meshFolding = true) =>
      await replayPartitioned(sim.records, () => trackerDetectors(SHORT), {}, 12, keyed, meshFolding);
    const found = async (keyed: boolean) => (await alerts(keyed)).filter((a) => matchesPrimary(a, label)).length;
    // one alert, though the subject's amplified traces are on several trace partitions (their parts summed)
    expect(await found(true)).toBe(1);
    expect(await found(false)).toBe(0);
    // the same subject's excessive calls and bulk reads (on the calls topic's shards) fold into it as the API stores
    // them; without that they are alerts of their own
    const generic = (list: Alert[]) =>
      list.filter(
        (a) =>
          (a.kind === 'excessive_calls' || a.kind === 'bulk_data_access') && a.subject?.value === label.subject?.value,
      );
    expect(generic(await alerts(true))).toEqual([]);
    expect(generic(await alerts(true, false)).length).toBeGreaterThan(0);
    const [fanOut] = (await alerts(true)).filter((a) => matchesPrimary(a, label));
    expect(fanOut.folded?.length).toBeGreaterThan(0);
  });

  it('raises no tracker alert on clean traffic', async () => {
    const sim = simulate({ seed: 78, start: START, durationMs: 20 * 60_000, rps: 6, anomalies: [] });
    const alerts = (await replay(sim.records, { detectors: trackerDetectors(SHORT) })).filter((a) => KINDS.has(a.kind));
    expect(alerts.map((a) => `${a.kind} ${a.service} ${a.summary}`)).toEqual([]);
  });

  it.each(['sqli', 'xss', 'traversal', 'cmdi', 'out_of_range', 'unexpected_param', 'bad_enum'])(
    'param_anomaly variant %s is found',
    async (variant) => {
      const sim = simulate({
        seed: 79,
        start: START,
        durationMs: 9 * 60_000,
        rps: 4,
        anomalies: [{ kind: 'param_anomaly', variant }],
        warmupShare: 0.7,
      });
      const alerts = await replay(sim.records, {
        detectors: trackerDetectors({ param_profile: { learning_records: 25, learning_ms: 4 * 60_000 } }),
      });
      expect(alerts.some((a) => matchesPrimary(a, sim.labels[0]))).toBe(true);
    },
  );

  it.each(['auth_dropped', 'open_endpoint'])('unauthenticated_access variant %s is found', async (variant) => {
    const sim = simulate({
      seed: 80,
      start: START,
      durationMs: 12 * 60_000,
      rps: 4,
      anomalies: [{ kind: 'unauthenticated_access', variant }],
      warmupShare: 0.6,
    });
    const alerts = await replay(sim.records, { detectors: trackerDetectors(SHORT) });
    const found = alerts.filter((a) => a.kind === 'unauthenticated_access');
    expect(found.map((a) => [a.service, a.endpoint])).toEqual([[sim.labels[0].service, sim.labels[0].endpoint]]);
    expect(matchesPrimary(found[0], sim.labels[0])).toBe(true);
    expect(found[0].labels?.rule).toBe(variant);
    // the alert counts the anonymous calls the scenario made, from the first to the last
    const label = sim.labels[0];
    const made = sim.records.filter(
      (r) =>
        r.service === label.service &&
        `${r.method} ${r.route}` === label.endpoint &&
        r.status < 400 &&
        credentialOf(r) === 'none' &&
        r.ts >= label.start &&
        r.ts <= label.end,
    );
    expect(made.length).toBeGreaterThanOrEqual(5);
    expect(found[0].evidence.metrics).toMatchObject({
      anonymous_calls: made.length,
      anonymous_span_s: (made[made.length - 1].ts - made[0].ts) / 1000,
    });
    expect(found[0].lastSeen).toBe(made[made.length - 1].ts);
  });

  it.each(['orders', 'scrape'])('the enumeration alert (%s) counts the walk the simulator made', async (variant) => {
    const { label, records, alert } = await injected('enumeration', variant);
    const walk = madeBy(label, records);
    expect(walk.length).toBeGreaterThanOrEqual(150);
    const ids = new Set(walk.map((r) => r.path));
    // past exact_limit (64) the distinct ids are counted in a HyperLogLog: within its error
    expect(Math.abs(alert.evidence.metrics.distinct_ids - ids.size) / ids.size).toBeLessThan(0.15);
    expect(alert.evidence.metrics).toMatchObject({
      requests: walk.length,
      span_s: (walk[walk.length - 1].ts - walk[0].ts) / 1000,
    });
    expect(alert.lastSeen).toBe(walk[walk.length - 1].ts);
  });

  it.each(['bulk_data_access', 'excessive_calls'])('the %s alert counts what the simulator made', async (kind) => {
    const { label, records, alert } = await injected(kind);
    const made = madeBy(label, records);
    expect(made.length).toBeGreaterThanOrEqual(kind === 'excessive_calls' ? 40 : 5);
    // from the first request of the window that crossed (the subject may have called the endpoint just before)
    const counted = records.filter(
      (r) =>
        r.service === label.service &&
        `${r.method} ${r.route}` === label.endpoint &&
        actorOf(r)?.value === label.subject?.value &&
        r.ts >= alert.firstSeen - alert.evidence.metrics.window_s * 1000 &&
        r.ts <= alert.lastSeen,
    );
    expect(alert.evidence.metrics.requests).toBeGreaterThanOrEqual(made.length);
    expect(alert.evidence.metrics.requests).toBeLessThanOrEqual(counted.length);
    const bytes = (rs: ApiCallRecord[]) => rs.reduce((n, r) => n + r.respBytes, 0);
    expect(alert.evidence.metrics.bytes).toBeGreaterThanOrEqual(bytes(made));
    expect(alert.evidence.metrics.bytes).toBeLessThanOrEqual(bytes(counted));
    expect(alert.lastSeen).toBe(made[made.length - 1].ts);
    expect(alert.evidence.metrics.ratio).toBeGreaterThan(5);
  });

  it.each(['credential_stuffing', 'brute_force'])(
    'the %s alert counts the failed logins the simulator made',
    async (kind) => {
      const { label, records, alert } = await injected(kind);
      // the failures at the edge (the front end's hops to the IdP are not counted twice)
      const failures = records.filter(
        (r) =>
          !isMeshHop(r) &&
          r.user?.authOutcome === 'failure' &&
          r.ts >= label.start &&
          r.ts <= label.end &&
          (kind === 'brute_force' ? r.user.sub === label.subject?.value : r.source.ip === label.subject?.value),
      );
      expect(failures.length).toBeGreaterThanOrEqual(25);
      const span = (failures[failures.length - 1].ts - failures[0].ts) / 1000;
      if (kind === 'brute_force')
        expect(alert.evidence.metrics).toMatchObject({
          failures: failures.length,
          source_ips: new Set(failures.map((r) => r.source.ip)).size,
        });
      else
        expect(alert.evidence.metrics).toMatchObject({
          failures: failures.length,
          distinct_users: new Set(failures.map((r) => r.user?.sub)).size,
        });
      // from the first attempt of the window that raised it (a success may open it) to the last failure
      expect(alert.evidence.metrics.span_s).toBeGreaterThanOrEqual(span);
      expect(alert.lastSeen).toBe(failures[failures.length - 1].ts);
    },
  );

  it('the fan_out alert counts every backend call of the amplified requests the simulator made', async () => {
    const { label, records, alert } = await injected('fan_out');
    const roots = madeBy(label, records).filter((r) => r.trace && !r.trace.parentSpanId);
    const calls = roots.map((root) =>
      records.filter((r) => r.trace?.traceId === root.trace?.traceId && (r.trace?.parentSpanId || isMeshHop(r))),
    );
    const amplified = calls.filter((c) => c.length > alert.evidence.metrics.threshold);
    expect(amplified.length).toBeGreaterThanOrEqual(2);
    const last = Math.max(...amplified.flat().map((r) => r.ts));
    expect(alert.evidence.metrics).toMatchObject({
      requests: amplified.length,
      backend_calls: amplified.reduce((n, c) => n + c.length, 0),
      max_backend_calls: Math.max(...amplified.map((c) => c.length)),
    });
    expect(alert.lastSeen).toBe(last);
  });

  it('the plaintext_hop alert counts the plaintext calls of its pair the simulator made', async () => {
    const { label, records, alert } = await injected('plaintext_hop');
    const calls = records.filter(
      (r) => r.service === label.service && r.source.service === label.subject?.value && r.source.mtls !== true,
    );
    expect(calls.length).toBeGreaterThanOrEqual(3);
    expect(alert.evidence.metrics).toMatchObject({
      plaintext_calls: calls.length,
      span_s: (calls[calls.length - 1].ts - calls[0].ts) / 1000,
      endpoints: 1,
    });
    expect([alert.firstSeen, alert.lastSeen]).toEqual([calls[0].ts, calls[calls.length - 1].ts]);
  });
});

describe('metric scenarios as 12 partitions see them (Kafka)', () => {
  it("symptoms at other partitions' services fold into their root cause's alert as the API stores them", async () => {
    const [plan] = defaultPlans({ trackerSeeds: [], metricSeeds: [21] });
    const metricAlerts = async (meshFolding: boolean) => {
      const r = await runPlan(plan, { partitions: 12, acrossServices: false, meshFolding });
      const alerts = r.alerts.filter((a) => (METRIC_KINDS as readonly string[]).includes(a.kind));
      // every injected anomaly's root cause is found either way
      for (const label of r.labels) expect(alerts.filter((a) => matchesPrimary(a, label))).toHaveLength(1);
      return { alerts, labels: r.labels };
    };
    const folded = await metricAlerts(true);
    // one alert per anomaly: its symptoms at callers and callees on other shards are folded into it
    expect(folded.alerts).toHaveLength(folded.labels.length);
    expect(folded.alerts.some((a) => (a.folded?.length ?? 0) > 0)).toBe(true);
    const apart = await metricAlerts(false);
    expect(apart.alerts.length).toBeGreaterThan(folded.labels.length);
  }, 60_000);
});

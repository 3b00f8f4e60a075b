import { describe, expect, it } from 'vitest';
import type { Alert, AlertSignal } from '../../core/alert.js';
import type { AlertKind } from '../../core/alert-kinds.js';
import type { Detector } from '../../detectors/detector.js';
import { replay } from '../replay.js';
import { Shard, type ShardOptions } from '../shard.js';
import { parseRootCauseConfig } from './config.js';
import { T0, tracedCalls } from './testdata/traced-calls.js';

const S = 1000;
const MIN = 60 * S;

const FRONT = { service: 'frontend', endpoint: 'GET /api/orders' };
const BACK = { service: 'orders', endpoint: 'GET /orders' };

/** a signal of `kind` at `place` for user `user` at T0 + `at`; `requests` also sets bytes (×1000) */
function sig(
  kind: AlertKind,
  place: { service: string; endpoint: string },
  user: string,
  at: number,
  requests = 50,
): AlertSignal {
  return {
    kind,
    severity: kind === 'excessive_calls' ? 'medium' : 'high',
    ...place,
    subject: { type: 'user', value: user },
    at: T0 + at,
    summary: `${kind} by ${user}: ${requests} requests`,
    recordIds: [`${kind}-${place.service}-${at}`],
    metrics: { requests, bytes: requests * 1000, threshold: 30 },
  };
}

/** emits the scripted signals as the records pass their time (what the detectors would have emitted) */
function scripted(script: AlertSignal[]): Detector {
  const sorted = [...script].sort((a, b) => a.at - b.at);
  let next = 0;
  return {
    type: 'test_scripted',
    observe(r, ctx) {
      while (next < sorted.length && sorted[next].at <= r.ts) ctx.emit(sorted[next++]);
    },
    snapshot: () => ({ next }),
    restore: (s) => {
      next = (s as { next: number }).next;
    },
  };
}

/** a generic signal refreshed every 30 s from `from` to `to` (ms after T0), its requests growing 40 a minute */
function refreshed(kind: AlertKind, place: typeof FRONT, user: string, from: number, to: number): AlertSignal[] {
  const out: AlertSignal[] = [];
  for (let at = from; at <= to; at += 30 * S)
    out.push(sig(kind, place, user, at, 40 + Math.round(((at - from) * 40) / MIN)));
  return out;
}

const run = (script: AlertSignal[], minutes: number, opts: ShardOptions = {}): Promise<Alert[]> =>
  replay(tracedCalls(minutes), { detectors: [scripted(script)], ...opts });

const places = (alerts: Alert[]) => alerts.map((a) => [a.kind, a.service, a.subject?.value]);

describe('subject folding in the shard', () => {
  it('folds excessive_calls into the live enumeration alert of its subject at its place: one alert, which records it', async () => {
    const script = [
      ...refreshed('enumeration', FRONT, 'u1', 2 * MIN, 6 * MIN),
      ...refreshed('excessive_calls', FRONT, 'u1', 2 * MIN + 20 * S, 6 * MIN),
    ];
    const alerts = await run(script, 12);
    expect(places(alerts)).toEqual([['enumeration', 'frontend', 'u1']]);
    const [a] = alerts;
    expect(a.labels?.also).toBe('excessive_calls');
    expect(a.labels?.also_folded).toBe(
      'excessive_calls at frontend GET /api/orders: excessive_calls by u1: 180 requests',
    );
    expect(a.summary).toBe(
      'enumeration by u1: 200 requests; also excessive_calls at frontend GET /api/orders: excessive_calls by u1: 180 requests',
    );
    expect(a.evidence.metrics).toMatchObject({
      requests: 200,
      also_folded: 1,
      also_requests: 180,
      also_bytes: 180_000,
    });
    expect(a.evidence.recordIds).toContain(`excessive_calls-frontend-${2 * MIN + 20 * S}`);
    // the folded signals do not refresh it: it is the enumeration's, seen and counted by its own detector
    expect([a.firstSeen, a.lastSeen, a.count]).toEqual([T0 + 2 * MIN, T0 + 6 * MIN, 9]);

    // folding off (one kind at `none`, or all of root-cause folding): two alerts for the one attack
    const none = await run(script, 12, { rootCause: { subjects_fold_into: { excessive_calls: 'none' } } });
    expect(places(none)).toEqual([
      ['enumeration', 'frontend', 'u1'],
      ['excessive_calls', 'frontend', 'u1'],
    ]);
    expect(places(await run(script, 12, { rootCause: { enabled: false } }))).toEqual(places(none));
  });

  it('a generic signal that crossed first waits subject_hold for the specific alert, and then folds into it', async () => {
    const script = [
      ...refreshed('excessive_calls', FRONT, 'u1', 2 * MIN, 6 * MIN),
      ...refreshed('enumeration', FRONT, 'u1', 2 * MIN + 11 * S, 6 * MIN),
    ];
    expect(places(await run(script, 12))).toEqual([['enumeration', 'frontend', 'u1']]);
    // held for less than the specific detector took: raised alone, as before
    const short = await run(script, 12, { rootCause: { subject_hold_seconds: 5 } });
    expect(places(short)).toEqual([
      ['excessive_calls', 'frontend', 'u1'],
      ['enumeration', 'frontend', 'u1'],
    ]);
  });

  it('raises the generic signal alone, at its own first time, when its subject has no specific alert at its place', async () => {
    const script = [
      ...refreshed('excessive_calls', FRONT, 'u1', 2 * MIN, 4 * MIN),
      // another subject, and the same subject at another endpoint of the service (no call graph without across_services)
      ...refreshed('enumeration', FRONT, 'u2', 2 * MIN, 4 * MIN),
      ...refreshed('enumeration', { service: 'frontend', endpoint: 'GET /api/users' }, 'u1', 2 * MIN, 4 * MIN),
    ];
    const alerts = await run(script, 12);
    const generic = alerts.filter((a) => a.kind === 'excessive_calls');
    expect(places(generic)).toEqual([['excessive_calls', 'frontend', 'u1']]);
    expect([generic[0].firstSeen, generic[0].count, generic[0].labels]).toEqual([T0 + 2 * MIN, 5, undefined]);
    expect(alerts.filter((a) => a.labels?.also)).toEqual([]);
  });

  it('raises the generic kind on its own once the specific alert resolved while the subject goes on taking', async () => {
    // the enumeration stops at 4 min and resolves 10 min later; the calls go on, 40 more a minute
    const script = [
      ...refreshed('enumeration', FRONT, 'u1', 2 * MIN, 4 * MIN),
      ...refreshed('excessive_calls', FRONT, 'u1', 2 * MIN + 20 * S, 20 * MIN),
    ];
    const alerts = await run(script, 24);
    expect(places(alerts)).toEqual([
      ['enumeration', 'frontend', 'u1'],
      ['excessive_calls', 'frontend', 'u1'],
    ]);
    const [specific, alone] = alerts;
    expect(specific.state).toBe('resolved');
    expect(specific.labels?.also).toBe('excessive_calls');
    // raised at its first signal after the resolution (the sweep at the 15-minute boundary closing)
    expect(alone.firstSeen).toBeGreaterThan(T0 + 14 * MIN);
    expect(alone.firstSeen).toBeLessThanOrEqual(T0 + 15 * MIN + 30 * S);
    expect(alone.labels).toBeUndefined();

    // the tail of the episode the specific alert told (refreshed, but no more taken than the threshold): no alert
    const tail = [
      ...refreshed('enumeration', FRONT, 'u1', 2 * MIN, 4 * MIN),
      ...refreshed('excessive_calls', FRONT, 'u1', 2 * MIN + 20 * S, 4 * MIN),
      ...[6, 8, 10, 12, 14, 16, 18, 20].map((m) => sig('excessive_calls', FRONT, 'u1', m * MIN, 100 + m)),
    ];
    expect(places(await run(tail, 24))).toEqual([['enumeration', 'frontend', 'u1']]);
  });

  it('across services, folds a backend signal into the front end alert of its subject along the call graph', async () => {
    const script = [
      ...refreshed('fan_out', FRONT, 'u1', 4 * MIN, 6 * MIN),
      ...refreshed('excessive_calls', BACK, 'u1', 4 * MIN, 6 * MIN),
      // an export seen at the front end and at the backend it passes through (the backend's crossed first)
      ...refreshed('bulk_data_access', BACK, 'u2', 4 * MIN, 6 * MIN),
      ...refreshed('bulk_data_access', FRONT, 'u2', 4 * MIN + 2 * S, 6 * MIN),
    ];
    const across = await run(script, 12, { rootCause: { across_services: true } });
    expect(places(across)).toEqual([
      ['fan_out', 'frontend', 'u1'],
      ['bulk_data_access', 'frontend', 'u2'],
    ]);
    expect(across.map((a) => a.labels?.also_folded)).toEqual([
      'excessive_calls at orders GET /orders: excessive_calls by u1: 120 requests',
      'bulk_data_access at orders GET /orders: bulk_data_access by u2: 120 requests',
    ]);
    // per service only (a partitioned correlator's default): the backend's own alerts
    const own = await run(script, 12, { rootCause: { across_services: false } });
    expect(own).toHaveLength(4);
  });

  it('continues identically from a checkpoint taken while a signal is held and while one is folded (live == replay)', async () => {
    const script = [
      ...refreshed('excessive_calls', FRONT, 'u1', 2 * MIN, 6 * MIN),
      ...refreshed('enumeration', FRONT, 'u1', 2 * MIN + 11 * S, 6 * MIN),
      ...refreshed('enumeration', FRONT, 'u2', 2 * MIN, 3 * MIN),
      ...refreshed('excessive_calls', FRONT, 'u2', 2 * MIN, 20 * MIN),
      ...refreshed('excessive_calls', FRONT, 'u3', 8 * MIN, 9 * MIN),
    ];
    const records = tracedCalls(24);
    const straight = await replay(records, { detectors: [scripted(script)] });
    expect(places(straight)).toEqual([
      ['enumeration', 'frontend', 'u2'],
      ['enumeration', 'frontend', 'u1'],
      ['excessive_calls', 'frontend', 'u3'],
      ['excessive_calls', 'frontend', 'u2'],
    ]);
    // checkpoints at 2 min 5 s (u1's excessive_calls held) and at 5 min (folded into enumeration)
    for (const cut of [2 * MIN + 5 * S, 5 * MIN, 8 * MIN + 10 * S]) {
      const half = records.findIndex((r) => r.ts >= T0 + cut);
      const before = new Shard([scripted(script)]);
      const got = new Map<string, Alert>();
      const take = (shard: Shard) => {
        for (const a of shard.drain().alerts) got.set(a.id, a);
      };
      for (const r of records.slice(0, half)) before.process(r);
      take(before);
      const snap = JSON.parse(JSON.stringify(before.snapshot()));
      if (cut < 3 * MIN) expect(snap.rootCause.subjects.held).toHaveLength(1);
      const after = new Shard([scripted(script)]);
      after.restore(snap);
      for (const r of records.slice(half)) after.process(r);
      take(after);
      const restored = [...got.values()].sort((a, b) => a.firstSeen - b.firstSeen || (a.id < b.id ? -1 : 1));
      expect(restored, `checkpoint at ${cut / S} s`).toEqual(straight);
    }
  });
});

describe('subjects_fold_into config', () => {
  it('is merged over its defaults, `none` turns a kind off, and a kind that is not an alert kind fails at load', () => {
    const c = parseRootCauseConfig({
      subjects_fold_into: { bulk_data_access: 'none', token_mismatch: ['enumeration'] },
    });
    expect(c.subjects_fold_into).toEqual({
      excessive_calls: ['enumeration', 'credential_stuffing', 'brute_force', 'fan_out'],
      bulk_data_access: 'none',
      token_mismatch: ['enumeration'],
    });
    expect(c.subject_hold_seconds).toBe(30);
    expect(() => parseRootCauseConfig({ subjects_fold_into: { excessive_calls: ['enumeratoin'] } })).toThrow(
      'correlator.root_cause.subjects_fold_into.excessive_calls: enumeratoin is not an alert kind',
    );
    expect(() => parseRootCauseConfig({ subjects_fold_into: { excessive_call: ['enumeration'] } })).toThrow(
      /excessive_call is not an alert kind/,
    );
    expect(() => parseRootCauseConfig({ subjects_fold_into: { excessive_calls: [] } })).toThrow(/subjects_fold_into/);
    expect(() => parseRootCauseConfig({ subject_hold_seconds: -1 })).toThrow(/subject_hold_seconds/);
  });
});

import { describe, expect, it } from 'vitest';
import type { ApiCallRecord } from '../../core/record.js';
import { CapturingContext, closedWindow } from '../shared/capture.js';
import { checkConfig } from '../shared/detector-kit.js';
import { CredentialStuffingConfigSchema } from './config.js';
import { credentialStuffingFactory } from './factory.js';

const MIN = 60_000;
let n = 0;
const login = (ts: number, ip: string, sub: string, ok = false): ApiCallRecord => ({
  id: `r${n++}`,
  ts,
  durationMs: 1,
  sensor: { kind: 'test', id: 't' },
  service: 'frontend',
  method: 'POST',
  host: 'h',
  path: '/api/login',
  route: '/api/login',
  status: ok ? 200 : 401,
  reqBytes: 0,
  respBytes: 0,
  source: { ip },
  user: { sub },
});
const detector = () =>
  credentialStuffingFactory.create(
    checkConfig('credential_stuffing', CredentialStuffingConfigSchema, {
      stuffing_distinct_users: 3,
      brute_force_failures: 3,
    }),
  );
/** alerts resolve after 10 quiet minutes, as in the correlator */
const correlatorContext = () => Object.assign(new CapturingContext(), { resolveAfterMs: 10 * MIN });
const closed = closedWindow('frontend');

describe('credential_stuffing', () => {
  it('counts a success from the address, but only a failure keeps its alert open', () => {
    const d = detector();
    const ctx = correlatorContext();
    for (let i = 0; i < 3; i++) d.observe!(login(i * 1000, '185.1.1.1', `u${i}`), ctx);
    d.observe!(login(3000, '185.1.1.1', 'u9', true), ctx);
    d.observe!(login(5000, '185.1.1.1', 'u3'), ctx);
    // signing in every minute from the address after that keeps nothing open
    for (let t = MIN; t < 16 * MIN; t += MIN) d.observe!(login(t, '185.1.1.1', 'u9', true), ctx);
    // failures again at minute 16, its alert resolved: the next one counts them alone, with the attempts of the
    // address's window (from minute 11)
    for (let i = 0; i < 3; i++) d.observe!(login(16 * MIN + i * 1000, '185.1.1.1', `v${i}`), ctx);
    expect(
      ctx.signals
        .filter((s) => s.kind === 'credential_stuffing')
        .map((s) => [s.at, s.metrics.distinct_users, s.metrics.failures, s.metrics.attempts]),
    ).toEqual([
      [2000, 3, 3, 3],
      [5000, 4, 4, 5],
      [16 * MIN + 2000, 3, 3, 8],
    ]);
  });

  it('never says more distinct users than failures, where the estimate past the exact count would', () => {
    const d = detector();
    const ctx = correlatorContext();
    // one failure each for users whose HyperLogLog estimate (past 64 exact) runs ahead of their number
    for (let i = 0; i < 400; i++) d.observe!(login(i * 10, '185.2.2.2', `user${i}`), ctx);
    d.onWindow!(closed, ctx);
    const counts = ctx.signals
      .filter((s) => s.kind === 'credential_stuffing')
      .map((s) => [s.metrics.distinct_users as number, s.metrics.failures as number]);
    expect(counts.length).toBeGreaterThan(1);
    for (const [users, failures] of counts) expect(users).toBeLessThanOrEqual(failures);
    // the estimate did run ahead somewhere: the bound, not luck, kept it true
    expect(counts.some(([users, failures]) => users === failures && failures > 64)).toBe(true);
  });

  it('carries a live alert across a checkpoint, and reads a checkpoint of the previous version', () => {
    const d = detector();
    const ctx = correlatorContext();
    for (let i = 0; i < 3; i++) d.observe!(login(i * 1000, '185.1.1.1', 'victim'), ctx);
    // half a second after the raise: waits for the service's window
    d.observe!(login(2500, '185.1.1.2', 'victim'), ctx);
    expect(ctx.signals.map((s) => [s.kind, s.metrics.failures])).toEqual([['brute_force', 3]]);
    const resumed = detector();
    resumed.restore(JSON.parse(JSON.stringify(d.snapshot())));
    resumed.onWindow!(closed, ctx);
    resumed.onWindow!(closed, ctx);
    expect(ctx.signals.slice(1).map((s) => [s.kind, s.at, s.metrics.failures, s.metrics.source_ips])).toEqual([
      ['brute_force', 2500, 4, 2],
    ]);
    // the previous version's windows had no alert: the one that raised it raises nothing more, the next afresh
    const old = JSON.parse(JSON.stringify(d.snapshot())) as Record<string, [string, Record<string, unknown>][]>;
    for (const [, w] of [...old.ips, ...old.users]) delete w.alert;
    delete old.unreportedIps;
    delete old.unreportedUsers;
    const older = detector();
    older.restore(old);
    ctx.signals.length = 0;
    older.observe!(login(3000, '185.1.1.1', 'victim'), ctx);
    for (let i = 0; i < 3; i++) older.observe!(login(11 * MIN + i, '185.1.1.3', 'victim'), ctx);
    expect(ctx.signals.map((s) => [s.kind, s.at, s.metrics.failures])).toEqual([['brute_force', 11 * MIN + 2, 3]]);
    expect(older.stats!()).toMatchObject({ ips: 3, users: 1, auth_failures: 8 });
  });
});

import { describe, expect, it } from 'vitest';
import type { ApiCallRecord } from '../../core/record.js';
import { CapturingContext, closedWindow } from '../shared/capture.js';
import { checkConfig } from '../shared/detector-kit.js';
import { PlaintextHopConfigSchema } from './config.js';
import { plaintextHopFactory } from './factory.js';

const MIN = 60_000;
let n = 0;
const hop = (ts: number, caller = 'legacy-billing'): ApiCallRecord => ({
  id: `r${n++}`,
  ts,
  durationMs: 1,
  sensor: { kind: 'test', id: 't' },
  service: 'payments',
  method: 'POST',
  host: 'h',
  path: '/payments',
  route: '/payments',
  status: 200,
  reqBytes: 0,
  respBytes: 0,
  source: { ip: '10.0.0.1', service: caller, mtls: false },
});
const detector = (config: Record<string, unknown> = {}) =>
  plaintextHopFactory.create(checkConfig('plaintext_hop', PlaintextHopConfigSchema, config));
/** alerts resolve after 10 quiet minutes, as in the correlator */
const correlatorContext = () => Object.assign(new CapturingContext(), { resolveAfterMs: 10 * MIN });
const closed = closedWindow('payments');

describe('plaintext_hop', () => {
  it('carries a live alert across a checkpoint; allowed callers raise nothing', () => {
    const d = detector({ allowed_callers: ['node-checker'] });
    const ctx = correlatorContext();
    for (let i = 0; i < 5; i++) d.observe!(hop(i * 400), ctx);
    d.observe!(hop(0, 'node-checker'), ctx);
    // raised at the first, refreshed at 1.2 s; the calls at 1.6 s wait for the service's window
    expect(ctx.signals.map((s) => [s.at, s.metrics.plaintext_calls])).toEqual([
      [0, 1],
      [1200, 4],
    ]);
    const resumed = detector();
    resumed.restore(JSON.parse(JSON.stringify(d.snapshot())));
    resumed.onWindow!(closed, ctx);
    resumed.onWindow!(closed, ctx);
    expect(ctx.signals.slice(2).map((s) => [s.at, s.metrics.plaintext_calls, s.summary])).toEqual([
      [1600, 5, 'legacy-billing called payments without mTLS 5 times in 1 s (POST /payments)'],
    ]);
    expect(resumed.stats!()).toMatchObject({ pairs: 1, plaintext_calls_seen: 5 });
  });

  it("reads a checkpoint of the previous version (the time of each pair's last alert)", () => {
    const older = detector();
    older.restore({ v: 1, pairs: [['legacy-billing\u0000payments', 0, 0]], seen: 7 });
    const ctx = correlatorContext();
    // its alert raised at 0 counted that call: the call 5 minutes on refreshes it
    older.observe!(hop(5 * MIN), ctx);
    // quiet until minute 30 (resolved): the calls since wait for realert_ms (an hour after the alert raised at 0)
    older.observe!(hop(30 * MIN), ctx);
    older.observe!(hop(61 * MIN), ctx);
    expect(ctx.signals.map((s) => [s.at / MIN, s.subject, s.metrics.plaintext_calls])).toEqual([
      [5, { type: 'service', value: 'legacy-billing' }, 2],
      [61, { type: 'service', value: 'legacy-billing' }, 2],
    ]);
    expect(older.stats!()).toMatchObject({ plaintext_calls_seen: 10 });
  });
});

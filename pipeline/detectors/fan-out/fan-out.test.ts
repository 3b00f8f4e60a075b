import { describe, expect, it } from 'vitest';
import type { ApiCallRecord } from '../../core/record.js';
import { CapturingContext } from '../shared/capture.js';
import { checkConfig } from '../shared/detector-kit.js';
import { FanOutConfigSchema } from './config.js';
import { fanOutFactory } from './factory.js';

const base = { durationMs: 1, sensor: { kind: 't', id: 't' }, host: 'h', status: 200, reqBytes: 0, respBytes: 0 };

describe('fan_out', () => {
  it('keeps at most max_pending open traces, closing the oldest early', () => {
    const d = fanOutFactory.create(checkConfig('fan_out', FanOutConfigSchema, { max_pending: 100 }));
    const ctx = new CapturingContext();
    for (let i = 0; i < 1000; i++) {
      const r: ApiCallRecord = {
        ...base,
        id: `r${i}`,
        ts: 1000 + i,
        service: 'frontend',
        method: 'GET',
        path: '/api/x',
        route: '/api/x',
        source: { ip: '1.1.1.1' },
        trace: { traceId: `t${i}` },
      };
      d.observe!(r, ctx);
    }
    expect(d.stats!().open_traces).toBe(100);
    expect(d.stats!().traces_closed_early).toBe(900);
  });
});

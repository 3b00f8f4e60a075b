import type { ApiCallRecord } from '../../core/record.js';

/** `n` calls per minute to each service from `start` for `minutes`; errors where `failing(service, minute)` */
export function steadyTraffic(opts: {
  start: number;
  minutes: number;
  perMinute: number;
  services: string[];
  failing?: (service: string, minute: number) => boolean;
}): ApiCallRecord[] {
  const out: ApiCallRecord[] = [];
  let seq = 0;
  for (let m = 0; m < opts.minutes; m++) {
    for (let i = 0; i < opts.perMinute; i++) {
      for (const service of opts.services) {
        const ts = opts.start + m * 60_000 + Math.floor((i * 60_000) / opts.perMinute);
        const fail = opts.failing?.(service, m) ?? false;
        out.push({
          id: `r${String(seq++).padStart(8, '0')}`,
          ts,
          durationMs: 20 + (i % 7),
          sensor: { kind: 'test', id: 't1' },
          service,
          method: 'GET',
          host: `${service}.svc`,
          path: `/v1/items/${1000 + (i % 50)}?q=x`,
          status: fail ? 503 : 200,
          reqBytes: 100,
          respBytes: 900,
          source: { ip: '10.0.0.1', service: 'frontend', mtls: true },
        });
      }
    }
  }
  return out;
}

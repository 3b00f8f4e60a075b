import { describe, expect, it } from 'vitest';
import { sampleRecord } from '../../../sensors/common/test-records.js';
import type { AlertSignal } from '../../core/alert.js';
import type { ApiCallRecord } from '../../core/record.js';
import '../all.js';
import { compileDetectors } from '../registry.js';
import { CapturingContext } from '../shared/capture.js';
import { checkConfig } from '../shared/detector-kit.js';
import { type DataVolumeConfig, DataVolumeConfigSchema } from './config.js';
import { DataVolumeDetector } from './data-volume.js';
import { dataVolumeFactory } from './factory.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);

let seq = 0;
const call = (
  ts: number,
  sub: string,
  respBytes: number,
  route = '/exports/{id}',
  over: Partial<ApiCallRecord> = {},
) => {
  const i = seq++;
  return sampleRecord(i, {
    id: `r${String(i).padStart(7, '0')}`,
    ts,
    service: 'reports',
    path: route.replace('{id}', String(i % 7)),
    route,
    respBytes,
    user: { sub },
    ...over,
  });
};

/** `users` callers of `route`, each calling every `everyMs` with `bytes` (±20 %) from `from` for `minutes` */
function crowd(users: number, route: string, bytes: number, minutes: number, everyMs = 150_000, from = T0) {
  const out: ApiCallRecord[] = [];
  for (let u = 0; u < users; u++)
    for (let t = (u * 7919) % everyMs; t < minutes * MIN; t += everyMs)
      out.push(call(from + t, `user-${u}`, Math.round(bytes * (0.8 + ((u * 37 + t / 1000) % 40) / 100)), route));
  return out;
}

/** `n` calls of `sub` to `route`, one every `everyMs` from `from` */
const burst = (sub: string, route: string, bytes: number, from: number, n: number, everyMs: number) =>
  Array.from({ length: n }, (_, i) => call(from + i * everyMs, sub, bytes, route));

const settings = (over: Partial<DataVolumeConfig> = {}): DataVolumeConfig =>
  checkConfig('data_volume', DataVolumeConfigSchema, { min_subjects: 10, min_windows: 30, ...over });

function run(records: ApiCallRecord[], over: Partial<DataVolumeConfig> = {}) {
  const d = new DataVolumeDetector(settings(over));
  const ctx = new CapturingContext();
  for (const r of [...records].sort((a, b) => a.ts - b.ts)) d.observe(r, ctx);
  return { d, ctx, signals: ctx.signals };
}

const who = (s: AlertSignal) => `${s.kind} ${s.endpoint} ${s.subject?.value}`;
const distinct = (signals: AlertSignal[]) => [...new Set(signals.map(who))];

describe('data_volume', () => {
  it('raises bulk_data_access on the user who takes 50x what the callers take, and nothing on the callers', () => {
    // 20 users read ~40 kB twice in 5 minutes; mallory reads 2 MB a minute for 10 minutes from minute 40
    const records = [
      ...crowd(20, '/exports/{id}', 20_000, 60),
      ...burst('mallory', '/exports/{id}', 500_000, T0 + 40 * MIN, 40, 15_000),
    ];
    const { signals, d } = run(records);
    expect(distinct(signals)).toEqual(['bulk_data_access GET /exports/{id} mallory']);
    const first = signals[0];
    const last = signals[signals.length - 1];
    // raised at the 3rd read (1.5 MB > 1 MB floor > 5 x p99), refreshed by every later one
    expect(first.metrics).toMatchObject({ bytes: 1_500_000, requests: 3 });
    expect(signals).toHaveLength(38);
    expect(last.metrics).toMatchObject({ bytes: 20_000_000, requests: 40, span_s: 39 * 15 });
    expect(last.metrics.ratio).toBeGreaterThan(50);
    expect(last.severity).toBe('high');
    expect(last.summary).toMatch(
      /^user mallory took 20 MB from GET \/exports\/\{id\} in 9 min 45 s, \d+× what its callers take \(p99 \d+ kB per 5 min\)$/,
    );
    expect(last.recordIds.length).toBe(20);
    expect(d.stats().windows_held_out).toBeGreaterThanOrEqual(1);
  });

  it('raises excessive_calls (not bulk_data_access) on a caller making 30x the calls of normal size', () => {
    const records = [...crowd(20, '/items', 5_000, 60), ...burst('ip-bot', '/items', 5_000, T0 + 40 * MIN, 120, 5_000)];
    const { signals } = run(records);
    expect(distinct(signals)).toEqual(['excessive_calls GET /items ip-bot']);
    // threshold: the 30-call floor (5 x p99 of 2-3 calls is less): raised at the 31st call
    expect(signals[0].metrics).toMatchObject({ requests: 31, threshold: 30 });
    expect(signals[0].severity).toBe('medium');
    expect(signals[signals.length - 1].summary).toMatch(/^user ip-bot made 120 calls to GET \/items in 9 min 55 s, /);
  });

  it('alerts nothing on a young endpoint: too few subjects, or too few windows', () => {
    // five callers for an hour: 60 windows but five subjects
    const few = [
      ...crowd(5, '/exports/{id}', 20_000, 60),
      ...burst('mallory', '/exports/{id}', 500_000, T0 + 40 * MIN, 40, 15_000),
    ];
    expect(run(few).signals).toEqual([]);
    // twenty callers, but the walk comes in the first minutes, before 30 windows closed
    const early = [
      ...crowd(20, '/exports/{id}', 20_000, 60),
      ...burst('mallory', '/exports/{id}', 500_000, T0 + MIN, 40, 15_000),
    ];
    expect(run(early).signals).toEqual([]);
  });

  it('alerts nothing on a popular endpoint where every caller takes a lot', () => {
    // every caller takes ~10 MB in 5 minutes; one takes 24 MB, under 5 x the p99
    const records = [
      ...crowd(20, '/dumps/{id}', 5_000_000, 60),
      ...burst('heavy', '/dumps/{id}', 6_000_000, T0 + 40 * MIN, 8, 40_000),
    ];
    const { signals, d } = run(records);
    expect(signals).toEqual([]);
    expect(d.stats().windows_closed).toBeGreaterThan(100);
  });

  it("keeps an episode's windows out of the baseline: a second taker of the same size is still caught", () => {
    const records = [
      ...crowd(20, '/exports/{id}', 20_000, 120),
      ...burst('mallory', '/exports/{id}', 500_000, T0 + 40 * MIN, 80, 15_000),
      ...burst('trudy', '/exports/{id}', 500_000, T0 + 80 * MIN, 40, 15_000),
    ];
    const { signals } = run(records);
    expect(distinct(signals)).toEqual([
      'bulk_data_access GET /exports/{id} mallory',
      'bulk_data_access GET /exports/{id} trudy',
    ]);
    const threshold = (sub: string) => signals.find((s) => s.subject?.value === sub)?.metrics.threshold;
    expect(threshold('trudy')).toBe(threshold('mallory'));
  });

  it('forgets: once its callers take little for two generations, a taker the old heavy usage hid is caught', () => {
    // for an hour every caller takes ~2 MB in 5 minutes (a bulk sync), then ~20 kB; from minute 150 mallory takes 6 MB
    const heavy = crowd(20, '/exports/{id}', 1_000_000, 60);
    const light = crowd(20, '/exports/{id}', 20_000, 120, 150_000, T0 + 60 * MIN);
    const mallory = burst('mallory', '/exports/{id}', 500_000, T0 + 150 * MIN, 12, 20_000);
    // with generations of 40 windows, the light ones (~90 an hour) have replaced the heavy ones by then
    expect(distinct(run([...heavy, ...light, ...mallory], { baseline_windows: 40 }).signals)).toEqual([
      'bulk_data_access GET /exports/{id} mallory',
    ]);
    // a baseline of 2,000 windows still holds the heavy hour: 6 MB is under 5 x its p99
    expect(run([...heavy, ...light, ...mallory]).signals).toEqual([]);
  });

  it('gives the same signals across a snapshot and restore half-way', () => {
    const records = [
      ...crowd(20, '/exports/{id}', 20_000, 60),
      ...burst('mallory', '/exports/{id}', 500_000, T0 + 40 * MIN, 40, 15_000),
      ...burst('ip-bot', '/exports/{id}', 1_000, T0 + 38 * MIN, 120, 5_000),
    ].sort((a, b) => a.ts - b.ts);
    const straight = run(records).signals;
    expect(distinct(straight).sort()).toEqual([
      'bulk_data_access GET /exports/{id} mallory',
      'excessive_calls GET /exports/{id} ip-bot',
    ]);
    for (const cut of [Math.floor(records.length / 3), records.findIndex((r) => r.ts > T0 + 42 * MIN)]) {
      const ctx = new CapturingContext();
      const a = new DataVolumeDetector(settings());
      for (const r of records.slice(0, cut)) a.observe(r, ctx);
      const b = new DataVolumeDetector(settings());
      b.restore(JSON.parse(JSON.stringify(a.snapshot())));
      for (const r of records.slice(cut)) b.observe(r, ctx);
      expect(ctx.signals).toEqual(straight);
      expect(b.stats().endpoints).toBe(1);
    }
  });

  it('starts empty on a checkpoint it cannot read', () => {
    const d = new DataVolumeDetector(settings());
    d.restore({ v: 1, windows: 'nonsense' });
    expect(d.stats()).toMatchObject({ subjects: 0, endpoints: 0 });
    d.restore({ v: 2 });
    expect(d.stats().subjects).toBe(0);
  });

  it('holds its caps, counting evictions', () => {
    const d = new DataVolumeDetector(settings({ max_subjects: 100, max_endpoints: 20 }));
    const ctx = new CapturingContext();
    // a new subject a second: 300 windows open at once, over the cap of 100 (evicted before they close)
    for (let i = 0; i < 5000; i++) d.observe(call(T0 + i * 1000, `u${i}`, 1000, `/r${i % 50}/{id}`), ctx);
    let s = d.stats();
    expect(s.subjects).toBe(100);
    expect(s.subjects_evicted).toBe(4900);
    // one every 10 s: windows close before the cap, and each feeds its endpoint's baseline (50 endpoints, cap 20)
    for (let i = 0; i < 5000; i++) d.observe(call(T0 + 5000_000 + i * 10_000, `v${i}`, 1000, `/r${i % 50}/{id}`), ctx);
    s = d.stats();
    expect(s.subjects).toBeLessThanOrEqual(100);
    expect(s.windows_closed).toBeGreaterThan(4800);
    expect(s.endpoints).toBe(20);
    expect(s.endpoints_evicted).toBeGreaterThan(4000);
  });

  it('leaves workloads out unless asked, and closes windows of subjects not seen again', () => {
    const mesh = (ts: number) =>
      call(ts, '', 1000, '/x', { user: undefined, source: { ip: '10.0.0.1', service: 'web' } });
    const d = new DataVolumeDetector(settings());
    const ctx = new CapturingContext();
    d.observe(mesh(T0), ctx);
    expect(d.stats().subjects).toBe(0);
    const w = new DataVolumeDetector(settings({ workload_subjects: true }));
    w.observe(mesh(T0), ctx);
    w.observe(call(T0 + 6 * MIN, 'alice', 1000), ctx);
    // the workload's window closed by the sweep (its subject never came back), alice's opened
    expect(w.stats()).toMatchObject({ subjects: 1, windows_closed: 1 });
  });
});

describe('data_volume config', () => {
  it('has valid defaults and fails fast on a bad value, naming the key', () => {
    expect(dataVolumeFactory.defaultConfig).toMatchObject({ window_ms: 300_000, quantile: 0.99, min_bytes: 1_000_000 });
    expect(() => checkConfig('data_volume', DataVolumeConfigSchema, { quantile: 1.5 })).toThrow(/data_volume.quantile/);
    expect(() => checkConfig('data_volume', DataVolumeConfigSchema, { bytes_factor: 0.5 })).toThrow(/bytes_factor/);
    expect(() => checkConfig('data_volume', DataVolumeConfigSchema, { min_byte: 5 })).toThrow(/min_byte/);
  });

  it('is compiled from the detectors: section with the other detectors', () => {
    expect(compileDetectors({ data_volume: { min_bytes: 5_000_000 } }).types).toContain('data_volume');
    expect(compileDetectors({ data_volume: { enabled: false } }).types).not.toContain('data_volume');
    expect(() => compileDetectors({ data_volume: { window_ms: 10 } })).toThrow(/detectors\.data_volume\.window_ms/);
  });
});

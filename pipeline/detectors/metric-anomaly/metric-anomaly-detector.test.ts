import { describe, expect, it } from 'vitest';
import type { AlertSignal } from '../../core/alert.js';
import { MeshwardError } from '../../core/errors.js';
import { registry } from '../../core/metrics.js';
import type { Detector, DetectorContext, WindowMetrics } from '../detector.js';
import { parseMetricAnomalyConfig } from './config.js';
import { metricAnomalyFactory } from './factory.js';
import { sampledWindows } from './testdata/sampled-windows.js';
import { makeWindows } from './testdata/windows.js';

function collect(): { ctx: DetectorContext; signals: AlertSignal[] } {
  const signals: AlertSignal[] = [];
  return { signals, ctx: { emit: (s) => signals.push(s), endpointOf: (r) => `${r.method} ${r.route ?? r.path}` } };
}

function run(
  windows: WindowMetrics[],
  config: Record<string, unknown> = {},
): { detector: Detector; signals: AlertSignal[] } {
  const detector = metricAnomalyFactory.create(parseMetricAnomalyConfig(config));
  const { ctx, signals } = collect();
  for (const w of windows) detector.onWindow!(w, ctx);
  return { detector, signals };
}

async function counterValue(name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = registry.getSingleMetric(name);
  if (!m) return 0;
  const data = await m.get();
  return data.values
    .filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))
    .reduce((n, v) => n + v.value, 0);
}

const DAY = 1440;

describe('metric_anomaly factory and config', () => {
  it('default config validates and creates a detector of the right type', () => {
    expect(metricAnomalyFactory.type).toBe('metric_anomaly');
    const config = parseMetricAnomalyConfig(metricAnomalyFactory.defaultConfig);
    expect(config).toEqual(metricAnomalyFactory.defaultConfig);
    expect(metricAnomalyFactory.create(config).type).toBe('metric_anomaly');
  });

  it('bad config fails at start with a message that says what to fix', () => {
    expect(() => parseMetricAnomalyConfig({ threshold: 2 })).toThrow(MeshwardError);
    expect(() => parseMetricAnomalyConfig({ metrics: ['p99'] })).toThrow(/metric_anomaly\.metrics\.0: /);
    expect(() => parseMetricAnomalyConfig({ suppress_windows: 5000, baseline_windows: 100 })).toThrow(
      /suppress_windows/,
    );
    expect(() => parseMetricAnomalyConfig({ unknown_key: 1 })).toThrow(MeshwardError);
  });
});

describe('metric_anomaly scenarios', () => {
  it('a latency spike after a seasonal baseline raises exactly one latency_spike, at its start', () => {
    const windows = makeWindows({
      service: 'checkout',
      windows: 2 * DAY + 200,
      events: [{ from: 2 * DAY + 60, length: 15, p95: 840 }],
    });
    const { signals } = run(windows);
    expect(signals).toHaveLength(1);
    const [s] = signals;
    expect(s.kind).toBe('latency_spike');
    expect(s.service).toBe('checkout');
    expect(s.at).toBe(windows[2 * DAY + 60].start);
    expect(s.summary).toMatch(
      /^p95 latency 8\d\d ms, expected 1[0-3]\d ± \d+ ms \(about \d+ of \d+ requests slower than the usual p95\)$/,
    );
    expect(s.metrics.count_z).toBeGreaterThan(4);
    expect(s.observed).toMatch(/^8\d\d ms$/);
    expect(s.metrics.observed).toBeGreaterThan(800);
    expect(s.metrics.expected).toBeGreaterThan(100);
    expect(s.metrics.expected).toBeLessThan(140);
    expect(s.metrics.score).toBeGreaterThanOrEqual(0.6);
    expect(['medium', 'high']).toContain(s.severity);
    expect(s.recordIds).toEqual(windows[2 * DAY + 60].sampleIds);
  });

  it('a sustained error-ratio shift is flagged once and then becomes the new baseline', () => {
    const shiftAt = DAY;
    const windows = makeWindows({
      service: 'orders',
      windows: DAY + 1000,
      events: [{ from: shiftAt, length: Number.POSITIVE_INFINITY, errorRatio: 0.12 }],
    });
    const { signals } = run(windows);
    const bursts = signals.filter((s) => s.kind === 'error_burst');
    expect(bursts).toHaveLength(1);
    expect(bursts[0].at).toBe(windows[shiftAt].start);
    expect(bursts[0].summary).toMatch(/^error ratio 1\d\.\d%, expected 0\.\d\d ± 0\.\d\d% \(\d+ of \d+ requests\)$/);
    expect(signals.filter((s) => s.at > windows[shiftAt].start)).toEqual([]);
  });

  it('a traffic drop raises traffic_drop; a surge raises traffic_spike', () => {
    const windows = makeWindows({
      service: 'search',
      windows: DAY + 900,
      events: [
        { from: DAY + 100, length: 30, rateFactor: 0.05 },
        { from: DAY + 600, length: 30, rateFactor: 4 },
      ],
    });
    const { signals } = run(windows, { metrics: ['rate'] });
    expect(signals.map((s) => [s.kind, s.at])).toEqual([
      ['traffic_drop', windows[DAY + 100].start],
      ['traffic_spike', windows[DAY + 600].start],
    ]);
    expect(signals[0].summary).toMatch(
      /^traffic \d+\.\d\d req\/s, expected \d+\.\d+ ± \d+\.\d+ req\/s \(\d+ requests, \d+ expected\)$/,
    );
  });

  it('a young baseline is gated: nothing fires before min_baseline_windows', () => {
    const windows = makeWindows({
      service: 'young',
      windows: 300,
      events: [{ from: 40, length: 10, p95: 2000, errorRatio: 0.5 }],
    });
    expect(run(windows).signals).toEqual([]);
    // the same event once the baseline is mature fires
    const later = makeWindows({
      service: 'young',
      windows: 600,
      events: [{ from: 400, length: 10, p95: 2000, errorRatio: 0.5 }],
    });
    expect(
      run(later)
        .signals.map((s) => s.kind)
        .sort(),
    ).toEqual(['error_burst', 'latency_spike']);
  });

  it('changes without practical significance do not alert', () => {
    // a nearly idle service: 5 requests a window, errors going from ~0.1 % to 0.3 %, then a burst of 3 errors in 5
    const idle = makeWindows({
      service: 'idle',
      windows: 600,
      peakCount: 5,
      baseErrorRatio: 0.001,
      events: [{ from: 400, length: 5, errorRatio: 0.6 }],
    });
    expect(run(idle).signals.filter((s) => s.kind === 'error_burst')).toEqual([]);
    // a busy service whose error ratio goes from 0.1 % to 0.3 %: anomalous, but below min_error_ratio_increase
    const small = makeWindows({
      service: 'busy',
      windows: 900,
      baseErrorRatio: 0.001,
      events: [{ from: 600, length: 50, errorRatio: 0.003 }],
    });
    expect(run(small).signals.filter((s) => s.kind === 'error_burst')).toEqual([]);
  });

  it('endpoint series are scored only when endpoint_level is on', () => {
    const windows = makeWindows({
      service: 'api',
      endpoint: 'GET /users/{id}',
      windows: 600,
      events: [{ from: 450, length: 10, p95: 900 }],
    });
    expect(run(windows).signals).toEqual([]);
    const { signals, detector } = run(windows, { endpoint_level: true });
    expect(signals.map((s) => [s.kind, s.endpoint])).toEqual([['latency_spike', 'GET /users/{id}']]);
    expect(detector.stats!().series).toBe(1);
  });
});

describe('metric_anomaly state', () => {
  it('caps tracked series (LRU by last update) and counts evictions', async () => {
    const before = await counterValue('meshward_metric_anomaly_evictions_total');
    const detector = metricAnomalyFactory.create(parseMetricAnomalyConfig({ max_series: 3 }));
    const { ctx } = collect();
    const per = ['a', 'b', 'c', 'd', 'e'].map((svc) => makeWindows({ service: svc, windows: 3 }));
    for (let i = 0; i < 3; i++) for (const svc of [0, 1, 2]) detector.onWindow!(per[svc][i], ctx);
    detector.onWindow!(per[3][0], ctx); // evicts a (least recently updated)
    detector.onWindow!(per[1][0 + 0], ctx); // out of order for b: skipped, but b is not refreshed either
    detector.onWindow!(per[4][0], ctx); // evicts b
    expect(detector.stats!()).toEqual({ series: 3, evicted: 2 });
    const kept = (detector.snapshot() as { series: { service: string }[] }).series.map((s) => s.service);
    expect(kept).toEqual(['c', 'd', 'e']);
    expect((await counterValue('meshward_metric_anomaly_evictions_total')) - before).toBe(2);
  });

  it('snapshot/restore through JSON yields identical subsequent signals', () => {
    const windows = makeWindows({
      service: 'pay',
      windows: 1000,
      events: [{ from: 800, length: 20, p95: 700, errorRatio: 0.2 }],
    });
    const cfg = parseMetricAnomalyConfig({});
    const a = metricAnomalyFactory.create(cfg);
    const ca = collect();
    for (const w of windows.slice(0, 500)) a.onWindow!(w, ca.ctx);
    const b = metricAnomalyFactory.create(cfg);
    b.restore(JSON.parse(JSON.stringify(a.snapshot())));
    const cb = collect();
    for (const w of windows.slice(500)) {
      a.onWindow!(w, ca.ctx);
      b.onWindow!(w, cb.ctx);
    }
    expect(cb.signals.length).toBeGreaterThanOrEqual(2);
    expect(cb.signals).toEqual(ca.signals);
    expect(b.snapshot()).toEqual(a.snapshot());
    expect(() => b.restore({ v: 2 })).toThrow(MeshwardError);
  });

  it('bad windows are counted and skipped, never fatal', async () => {
    const before = await counterValue('meshward_metric_anomaly_skipped_windows_total', { reason: 'invalid' });
    const [w] = makeWindows({ service: 'x', windows: 1 });
    const { signals, detector } = run([
      { ...w, rate: Number.NaN },
      { ...w, errorRatio: 3 },
      { ...w, p95: -1 },
    ]);
    expect(signals).toEqual([]);
    expect(detector.stats!().series).toBe(0);
    expect((await counterValue('meshward_metric_anomaly_skipped_windows_total', { reason: 'invalid' })) - before).toBe(
      3,
    );
  });
});

describe('metric_anomaly practical significance on sampled windows', () => {
  const quiet = { endpoint: 'GET /quiet', count: 20, median: 100, sigma: 0.6 };
  const signalsOf = (windows: WindowMetrics[], config: Record<string, unknown>, kind: string) =>
    run(windows, { endpoint_level: true, ...config }).signals.filter((s) => s.kind === kind && s.endpoint);

  it('two slow requests in a quiet minute are counting noise, not a latency spike', () => {
    const windows = sampledWindows({
      service: 'q',
      windows: 160,
      endpoints: [quiet],
      events: [{ endpoint: 'GET /quiet', from: 120, length: 1, count: 20, slow: 2, slowMs: 1500 }],
    });
    expect(signalsOf(windows, {}, 'latency_spike')).toEqual([]);
    // the scorer alone does flag it: the count check is what holds it back
    const ungated = signalsOf(windows, { min_count_z: 0 }, 'latency_spike');
    expect(ungated.map((s) => s.at)).toEqual([windows[120 * 2].start]);
    expect(ungated[0].metrics.count_z).toBeLessThan(4);
  });

  it('five times the traffic of a quiet endpoint is a spike, with its counts in the summary', () => {
    const surge = sampledWindows({
      service: 'q',
      windows: 160,
      endpoints: [quiet],
      events: [{ endpoint: 'GET /quiet', from: 120, length: 5, count: 100 }],
    });
    const spikes = signalsOf(surge, {}, 'traffic_spike');
    expect(spikes.map((s) => s.at)).toEqual([surge[120 * 2].start]);
    expect(spikes[0].summary).toMatch(/\(100 requests, 2\d expected\)$/);
  });

  describe("a service's p95 over a fast and a slow endpoint", () => {
    const fast = { endpoint: 'GET /fast', count: 600, median: 20 };
    const slow = { endpoint: 'POST /slow', median: 300, sigma: 0.3 };
    const serviceLevel = (signals: AlertSignal[]) => signals.filter((s) => s.kind === 'latency_spike' && !s.endpoint);

    it('jumps whenever the slow share crosses 5 %: not a latency spike when its endpoints are scored', () => {
      // 20 slow calls beside 600 fast ones: 3.2 % on average, above 5 % now and then by chance
      const windows = sampledWindows({ service: 'shop', windows: 160, endpoints: [fast, { ...slow, count: 20 }] });
      const alone = serviceLevel(run(windows).signals);
      expect(alone.length).toBeGreaterThan(0);
      for (const s of alone) {
        const i = windows.findIndex((w) => w.start === s.at && w.endpoint === 'POST /slow');
        expect(windows[i].count / windows[i + 1].count).toBeGreaterThan(0.05);
      }
      expect(run(windows, { endpoint_level: true }).signals.filter((s) => s.kind === 'latency_spike')).toEqual([]);
    });

    it('a slowdown of the fast endpoint shows at both levels, and survives a snapshot taken while it waits', () => {
      const windows = sampledWindows({
        service: 'shop',
        windows: 160,
        endpoints: [fast, { ...slow, count: 8 }],
        events: [{ endpoint: 'GET /fast', from: 140, length: 5, latencyFactor: 4 }],
      });
      const perStart = 3;
      const all = run(windows, { endpoint_level: true }).signals.filter((s) => s.kind === 'latency_spike');
      expect(all.map((s) => [s.endpoint ?? '', s.at])).toEqual([
        ['GET /fast', windows[140 * perStart].start],
        ['', windows[140 * perStart].start],
      ]);
      expect(all[1].summary).toMatch(/\(about \d{3} of \d{3} requests slower than the usual p95\)$/);

      const cfg = parseMetricAnomalyConfig({ endpoint_level: true });
      const a = metricAnomalyFactory.create(cfg);
      const cut = 140 * perStart + 3; // the service's window of start 140 is in, waiting for a later start
      const ca = collect();
      for (const w of windows.slice(0, cut)) a.onWindow!(w, ca.ctx);
      const b = metricAnomalyFactory.create(cfg);
      b.restore(JSON.parse(JSON.stringify(a.snapshot())));
      const cb = collect();
      for (const w of windows.slice(cut)) b.onWindow!(w, cb.ctx);
      expect(serviceLevel(cb.signals)).toEqual(serviceLevel(all));
    });
  });
});

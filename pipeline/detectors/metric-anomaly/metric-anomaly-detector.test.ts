import { describe, expect, it } from 'vitest';
import type { Alert, AlertSignal } from '../../core/alert.js';
import { AlertManager } from '../../correlator/alert-manager.js';
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

const onsets = (signals: AlertSignal[]) => signals.filter((s) => s.labels?.phase === 'onset');
/** the window starts of the signals, each with its phase */
const timeline = (signals: AlertSignal[]) => signals.map((s) => [s.at, s.labels?.phase]);
/** what a run signals over windows[from, from + length): an onset, then a continuation per window */
const heldOver = (windows: WindowMetrics[], from: number, length: number, step = 1) =>
  Array.from({ length }, (_, i) => [windows[(from + i) * step].start, i === 0 ? 'onset' : 'continuation']);

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
    expect(() => parseMetricAnomalyConfig({ max_held_windows: -1 })).toThrow(/max_held_windows/);
  });
});

describe('metric_anomaly scenarios', () => {
  it('a latency spike after a seasonal baseline raises one latency_spike at its start, continued while it lasts', () => {
    const windows = makeWindows({
      service: 'checkout',
      windows: 2 * DAY + 200,
      events: [{ from: 2 * DAY + 60, length: 15, p95: 840 }],
    });
    const { signals } = run(windows);
    expect(timeline(signals)).toEqual(heldOver(windows, 2 * DAY + 60, 15));
    expect(signals.every((s) => s.kind === 'latency_spike')).toBe(true);
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

  it('a sustained error-ratio shift is flagged once, continued while unusual, and ends once it is the new baseline', () => {
    const shiftAt = DAY;
    const windows = makeWindows({
      service: 'orders',
      windows: DAY + 1000,
      events: [{ from: shiftAt, length: Number.POSITIVE_INFINITY, errorRatio: 0.12 }],
    });
    const { signals } = run(windows);
    expect(signals.every((s) => s.kind === 'error_burst')).toBe(true);
    expect(onsets(signals).map((s) => s.at)).toEqual([windows[shiftAt].start]);
    expect(signals[0].summary).toMatch(/^error ratio 1\d\.\d%, expected 0\.\d\d ± 0\.\d\d% \(\d+ of \d+ requests\)$/);
    // continued on every window while unusual: its first max_held_windows (60) windows are kept out of the baseline,
    // then learnt, until the long-run error ratio (half-life 240 windows) has taken in enough of the new level for
    // 12 % to be within counting noise of it, before the rolling median of 240 windows moves up to it (at half of
    // them); the error ratio is still 12 % after
    const held = signals.length;
    expect(held).toBeGreaterThan(60 + 60);
    expect(held).toBeLessThanOrEqual(60 + 120);
    expect(timeline(signals)).toEqual(heldOver(windows, shiftAt, held));
    expect(signals[60].metrics.expected).toBeLessThan(0.01);
    expect(windows[shiftAt + held].errorRatio).toBeGreaterThan(0.08);
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
    expect(onsets(signals).map((s) => [s.kind, s.at])).toEqual([
      ['traffic_drop', windows[DAY + 100].start],
      ['traffic_spike', windows[DAY + 600].start],
    ]);
    // each is continued for as long as it lasts
    expect(timeline(signals.filter((s) => s.kind === 'traffic_drop'))).toEqual(heldOver(windows, DAY + 100, 30));
    expect(timeline(signals.filter((s) => s.kind === 'traffic_spike'))).toEqual(heldOver(windows, DAY + 600, 30));
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
      onsets(run(later).signals)
        .map((s) => s.kind)
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
    expect(onsets(signals).map((s) => [s.kind, s.endpoint])).toEqual([['latency_spike', 'GET /users/{id}']]);
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

describe('metric_anomaly continuation: an alert stays open while its condition holds', () => {
  // the demo's catalog: about 0.3 % errors, then 10 % for six minutes
  const burst = (length: number) =>
    makeWindows({
      service: 'catalog',
      windows: 400,
      peakCount: 200,
      baseErrorRatio: 0.003,
      events: [{ from: 300, length, errorRatio: 0.1 }],
    });
  const cfg = parseMetricAnomalyConfig({ metrics: ['error_ratio'] });

  it('a sustained error burst is signalled at its onset, then on every window while it lasts, and no longer', async () => {
    const windows = burst(6);
    const kind = { kind: 'error_burst' };
    const onsetsBefore = await counterValue('meshward_metric_anomaly_signals_total', kind);
    const continuedBefore = await counterValue('meshward_metric_anomaly_continuations_total', kind);
    const { signals } = run(windows, { metrics: ['error_ratio'] });
    expect(timeline(signals)).toEqual(heldOver(windows, 300, 6));
    expect(signals.every((s) => s.kind === 'error_burst' && s.service === 'catalog')).toBe(true);
    // each says its own window, judged against the expectation of that moment
    for (const s of signals) {
      const w = windows.find((x) => x.start === s.at)!;
      expect(s.metrics.observed).toBe(w.errorRatio);
      expect(s.metrics.errors).toBe(w.errors);
      expect(s.metrics.expected).toBeLessThan(0.01);
      expect(s.metrics.count_z).toBeGreaterThanOrEqual(4.5);
    }
    expect(signals.slice(1).every((s) => s.metrics.score < cfg.threshold)).toBe(true);
    expect((await counterValue('meshward_metric_anomaly_signals_total', kind)) - onsetsBefore).toBe(1);
    expect((await counterValue('meshward_metric_anomaly_continuations_total', kind)) - continuedBefore).toBe(5);
  });

  it('a new latency level that persists is held out for max_held_windows, then continued until the median has it', () => {
    const windows = makeWindows({
      service: 'checkout',
      windows: DAY + 400,
      events: [{ from: DAY, length: Number.POSITIVE_INFINITY, p95: 400 }],
    });
    for (const cap of [0, 20, 60]) {
      const { signals } = run(windows, { metrics: ['p95'], max_held_windows: cap });
      const held = signals.length;
      expect(timeline(signals)).toEqual(heldOver(windows, DAY, held));
      // the windows after the cap are learnt: the median of the last 240 windows reaches the new level after 120 of
      // them; until then the expectation is the old level, after it the new one, and the window is as expected
      expect(held).toBeGreaterThan(cap + 100);
      expect(held).toBeLessThanOrEqual(cap + 121);
      expect(signals[held - 2].metrics.expected).toBeLessThan(200);
      expect(windows[DAY + held].p95).toBeGreaterThan(350);
    }
  });

  describe('with a mature daily profile, the windows of a firing metric stay out of its baseline', () => {
    // three days of history (the time-of-day profile is what the scorer expects from two days on), then an incident
    // at 10:00 of the fourth day
    const from = 3 * DAY + 600;
    const incidents = [
      { metric: 'error_ratio', kind: 'error_burst', event: { errorRatio: 0.12 } },
      { metric: 'p95', kind: 'latency_spike', event: { p95: 400 } },
      { metric: 'rate', kind: 'traffic_drop', event: { rateFactor: 0.3 } },
    ] as const;
    const windowsOf = (event: object, length: number) =>
      makeWindows({ service: 'svc', windows: from + 300, seed: 7, events: [{ from, length, ...event }] });

    it('a 30-window incident is continued on each of its windows and no further; learnt, it ended early', () => {
      for (const { metric, kind, event } of incidents) {
        const windows = windowsOf(event, 30);
        const { signals } = run(windows, { metrics: [metric] });
        expect(timeline(signals)).toEqual(heldOver(windows, from, 30));
        expect(signals.every((s) => s.kind === kind)).toBe(true);
        // judged against the level before the incident to the end
        const first = signals[0].metrics.expected;
        expect(Math.abs(signals[29].metrics.expected - first)).toBeLessThan(Math.abs(first) * 0.35);
        // every window learnt (as before the hold): the time-of-day bucket takes the level in and the signals stop
        const learnt = run(windows, { metrics: [metric], max_held_windows: 0 }).signals;
        expect(timeline(learnt)).toEqual(heldOver(windows, from, learnt.length));
        expect(learnt.length).toBeLessThan(20);
      }
    });

    it('a level that lasts is held out for max_held_windows, then learnt, and its continuation ends', () => {
      for (const { metric, event } of incidents) {
        const windows = windowsOf(event, Number.POSITIVE_INFINITY);
        for (const cap of [20, 60]) {
          const { signals } = run(windows, { metrics: [metric], max_held_windows: cap });
          expect(timeline(signals)).toEqual(heldOver(windows, from, signals.length));
          expect(signals.length).toBeGreaterThan(cap);
          expect(signals.length).toBeLessThan(cap + 20);
        }
      }
    });

    it('the held run survives snapshot/restore; a firing state without a held count starts counting afresh', () => {
      const windows = windowsOf({ p95: 400 }, Number.POSITIVE_INFINITY);
      const config = parseMetricAnomalyConfig({ metrics: ['p95'], max_held_windows: 20 });
      const cut = from + 10;
      const a = metricAnomalyFactory.create(config);
      const ca = collect();
      for (const w of windows.slice(0, cut)) a.onWindow!(w, ca.ctx);
      const state = JSON.parse(JSON.stringify(a.snapshot()));
      expect(state.series[0].firing.p95.held).toBe(10);
      const b = metricAnomalyFactory.create(config);
      b.restore(state);
      const cb = collect();
      for (const w of windows.slice(cut)) {
        a.onWindow!(w, ca.ctx);
        b.onWindow!(w, cb.ctx);
      }
      expect(cb.signals).toEqual(ca.signals.slice(10));
      expect(b.snapshot()).toEqual(a.snapshot());
      // from a snapshot taken before held counts: the run is held for up to 20 more windows
      delete state.series[0].firing.p95.held;
      const old = metricAnomalyFactory.create(config);
      old.restore(state);
      const co = collect();
      for (const w of windows.slice(cut)) old.onWindow!(w, co.ctx);
      expect(co.signals.length).toBeGreaterThan(ca.signals.length - 10 + 5);
      expect(timeline(co.signals)).toEqual(heldOver(windows, cut, co.signals.length).map(([t]) => [t, 'continuation']));
    });
  });

  it('the firing state survives snapshot/restore; a snapshot without it restores with nothing firing', () => {
    const windows = burst(6);
    const cut = 302; // onset at 300, continued at 301
    const a = metricAnomalyFactory.create(cfg);
    const ca = collect();
    for (const w of windows.slice(0, cut)) a.onWindow!(w, ca.ctx);
    expect(timeline(ca.signals)).toEqual(heldOver(windows, 300, 2));
    const state = JSON.parse(JSON.stringify(a.snapshot()));
    const b = metricAnomalyFactory.create(cfg);
    b.restore(state);
    const cb = collect();
    for (const w of windows.slice(cut)) {
      a.onWindow!(w, ca.ctx);
      b.onWindow!(w, cb.ctx);
    }
    expect(timeline(cb.signals)).toEqual(heldOver(windows, 300, 6).slice(2));
    expect(cb.signals).toEqual(ca.signals.slice(2));
    expect(b.snapshot()).toEqual(a.snapshot());

    // a checkpoint written before continuations: the burst's onset has passed, so the rest is not signalled
    for (const s of state.series) delete s.firing;
    const old = metricAnomalyFactory.create(cfg);
    old.restore(state);
    const co = collect();
    for (const w of windows.slice(cut)) old.onWindow!(w, co.ctx);
    expect(co.signals).toEqual([]);
  });

  it('through the alert manager: one alert, refreshed on every window of the burst, resolved once it is over', () => {
    // 15 minutes of errors, longer than the manager's 10 minutes without refresh
    const windows = burst(15);
    const manager = new AlertManager({ resolveAfterMs: 10 * 60_000 });
    const detector = metricAnomalyFactory.create(cfg);
    const ctx: DetectorContext = {
      emit: (s) => manager.signal(s),
      endpointOf: () => '',
      resolveAfterMs: manager.resolveAfterMs,
    };
    const changes: { window: number; alert: Alert }[] = [];
    for (let i = 0; i < windows.length; i++) {
      const w = windows[i];
      detector.onWindow!(w, ctx);
      manager.sweep(w.start + w.widthMs);
      for (const alert of manager.drain()) changes.push({ window: i, alert });
    }
    expect(new Set(changes.map((c) => c.alert.id)).size).toBe(1);
    const during = changes.filter((c) => c.window < 315);
    expect(during.map((c) => [c.window, c.alert.state, c.alert.count])).toEqual(
      Array.from({ length: 15 }, (_, i) => [300 + i, 'open', i + 1]),
    );
    const last = during[during.length - 1].alert;
    expect(last.firstSeen).toBe(windows[300].start);
    expect(last.lastSeen).toBe(windows[314].start);
    expect(last.observed).toBe(`${(windows[314].errorRatio * 100).toFixed(1)}%`);
    expect(last.labels?.phase).toBe('continuation');
    // quiet for the resolve window after the burst's last window: resolved, with nothing signalled in between
    const after = changes.filter((c) => c.window >= 315);
    expect(after.map((c) => [c.alert.state, c.alert.count, c.alert.lastSeen])).toEqual([
      ['resolved', 15, windows[314].start],
    ]);
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
    expect(timeline(spikes)).toEqual(heldOver(surge, 120, 5, 2));
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
      expect(onsets(all).map((s) => [s.endpoint ?? '', s.at])).toEqual([
        ['GET /fast', windows[140 * perStart].start],
        ['', windows[140 * perStart].start],
      ]);
      // the service-level candidate is continued through its endpoints' windows too, a window late each time
      expect(timeline(all.filter((s) => s.endpoint === 'GET /fast'))).toEqual(heldOver(windows, 140, 5, perStart));
      expect(timeline(serviceLevel(all))).toEqual(heldOver(windows, 140, 5, perStart));
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

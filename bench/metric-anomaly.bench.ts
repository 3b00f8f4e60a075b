/**
 * Bench of the metric-anomaly core scorer: updates per second against a baseline loop that only reads the same values
 * (the ratio is what to compare across machines), and the memory one tracked series costs in the pipeline detector.
 *
 *   npm run build && node --expose-gc dist/bench/metric-anomaly.bench.js [--rows 200000] [--series 2000]
 */
import { parseMetricAnomalyConfig } from '../pipeline/detectors/metric-anomaly/config.js';
import { metricAnomalyFactory } from '../pipeline/detectors/metric-anomaly/factory.js';
import { DEFAULT_SCORER_OPTIONS, StreamingScorer } from '../pipeline/detectors/metric-anomaly/streaming-scorer.js';
import type { DetectorContext } from '../pipeline/detectors/detector.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function series(rows: number): { t: Float64Array; x: Float64Array } {
  const t = new Float64Array(rows);
  const x = new Float64Array(rows);
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  for (let i = 0; i < rows; i++) {
    t[i] = 1_700_000_000_000 + i * 60_000;
    x[i] = 100 + 20 * Math.sin((i / 1440) * 2 * Math.PI) + 5 * (rand() + rand() - 1) + (i % 5000 === 4999 ? 80 : 0);
  }
  return { t, x };
}

function timeIt(fn: () => number): { seconds: number; sink: number } {
  const t0 = process.hrtime.bigint();
  const sink = fn();
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, sink };
}

function heapUsed(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  return process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
}

function main(): void {
  const rows = arg('rows', 200_000);
  const nSeries = arg('series', 2000);
  const { t, x } = series(rows);

  // warm both loops once so the JIT has compiled them
  const warm = new StreamingScorer();
  for (let i = 0; i < Math.min(rows, 20_000); i++) warm.update(t[i], x[i]);

  const baseline = timeIt(() => {
    let s = 0;
    for (let i = 0; i < rows; i++) s += x[i] * 1e-9 + t[i] * 1e-18;
    return s;
  });
  const scorer = new StreamingScorer();
  const scored = timeIt(() => {
    let s = 0;
    for (let i = 0; i < rows; i++) s += scorer.update(t[i], x[i]);
    return s;
  });
  const pipelineOpts = parseMetricAnomalyConfig({});
  const small = new StreamingScorer({
    baseline_size: pipelineOpts.baseline_windows,
    history_size: pipelineOpts.history_windows,
    suppress_rows: pipelineOpts.suppress_windows,
    min_baseline: pipelineOpts.min_baseline_windows,
  });
  const scoredSmall = timeIt(() => {
    let s = 0;
    for (let i = 0; i < rows; i++) s += small.update(t[i], x[i]);
    return s;
  });

  console.log(`node ${process.version}, ${rows} rows`);
  console.log(`baseline read loop:          ${(rows / baseline.seconds / 1e6).toFixed(1)} M rows/s`);
  console.log(
    `scorer (NAB defaults):       ${Math.round(rows / scored.seconds)} updates/s, ${((scored.seconds / rows) * 1e6).toFixed(2)} µs/update, ` +
      `${(scored.seconds / baseline.seconds).toFixed(0)}x the baseline loop (history ${DEFAULT_SCORER_OPTIONS.history_size}, embed ${DEFAULT_SCORER_OPTIONS.embed_size})`,
  );
  console.log(
    `scorer (pipeline defaults):  ${Math.round(rows / scoredSmall.seconds)} updates/s, ${((scoredSmall.seconds / rows) * 1e6).toFixed(2)} µs/update, ` +
      `${(scoredSmall.seconds / baseline.seconds).toFixed(0)}x the baseline loop`,
  );

  // memory per tracked series in the pipeline detector (three metrics, every buffer full)
  const detector = metricAnomalyFactory.create(parseMetricAnomalyConfig({ max_series: nSeries }));
  const ctx: DetectorContext = { emit: () => {}, endpointOf: () => '' };
  const fill =
    Math.max(pipelineOpts.baseline_windows, pipelineOpts.history_windows, pipelineOpts.suppress_windows) + 10;
  const before = heapUsed();
  for (let w = 0; w < fill; w++) {
    for (let s = 0; s < nSeries; s++) {
      const count = 300 + (s % 7) * 10 + (w % 13);
      detector.onWindow?.(
        {
          service: `svc-${s}`,
          start: 1_700_000_000_000 + w * 60_000,
          widthMs: 60_000,
          count,
          errors: w % 11,
          rate: count / 60,
          errorRatio: (w % 11) / count,
          p50: 40,
          p95: 120 + (w % 17),
          p99: 200,
          sampleIds: [],
        },
        ctx,
      );
    }
  }
  const after = heapUsed();
  const hasGc = typeof (globalThis as { gc?: unknown }).gc === 'function';
  console.log(
    `memory: ${nSeries} series x 3 metrics, buffers full: ${((after - before) / 1024 / 1024).toFixed(1)} MB, ` +
      `${((after - before) / nSeries / 1024).toFixed(1)} KB per series${hasGc ? '' : ' (run with --expose-gc for a steadier figure)'}`,
  );
  console.log(
    `(sinks: ${baseline.sink.toFixed(3)} ${scored.sink.toFixed(3)} ${scoredSmall.sink.toFixed(3)} ${detector.stats?.().series})`,
  );
}

main();

/**
 * `npm run eval:nab`: score meshward's streaming metric-anomaly scorer on the Numenta Anomaly Benchmark (58 series,
 * three profiles, one parameter set, one threshold per profile picked by NAB's sweep) and print it beside the
 * published detectors. Also re-scores the shipped per-row scores of numenta (HTM) and knncad as a check of the scorer.
 *
 *   node dist/eval/nab/run.js [--data <dir>] [--json]
 */
import { Command } from 'commander';
import { StreamingScorer } from '../../pipeline/detectors/metric-anomaly/streaming-scorer.js';
import {
  defaultDataDir,
  hasCorpus,
  loadCorpus,
  loadFinalResults,
  loadPublishedScores,
  loadThresholds,
  type NabSeries,
} from './corpus.js';
import { type ProfileResult, runSeries, scoreCorpus } from './evaluate.js';
import { normalise, PROFILE_NAMES, PROFILES, prepareFile, scoreFile, windowsToRows } from './scorer.js';

const SHOWN = [
  'ARTime',
  'numenta',
  'contextOSE',
  'htmjava',
  'earthgeckoSkyline',
  'knncad',
  'relativeEntropy',
  'twitterADVec',
  'windowedGaussian',
  'null',
];

/** re-score a published detector's rows at its published threshold */
function rescorePublished(
  dir: string,
  corpus: readonly NabSeries[],
  detector: string,
): Record<string, number> | undefined {
  const thresholds = loadThresholds(dir)[detector];
  if (!thresholds) return undefined;
  const out: Record<string, number> = {};
  for (const name of PROFILE_NAMES) {
    let raw = 0;
    let windows = 0;
    for (const s of corpus) {
      const scores = loadPublishedScores(dir, detector, s.key);
      if (!scores) return undefined;
      const file = prepareFile(s.key, s.values.length, windowsToRows(s.timestamps, s.windows), PROFILES[name]);
      raw += scoreFile(file, scores, thresholds[name].threshold, PROFILES[name]).score;
      windows += file.windows;
    }
    out[name] = normalise(raw, PROFILES[name], windows);
  }
  return out;
}

function main(argv: string[]): void {
  const program = new Command()
    .name('eval-nab')
    .option('--data <dir>', 'NAB data directory (data/, labels/, published/)', defaultDataDir())
    .option('--json', 'print the results as JSON')
    .parse(argv);
  const opts = program.opts<{ data: string; json?: boolean }>();
  if (!hasCorpus(opts.data)) {
    console.error(
      `NAB data not found at ${opts.data}: pass --data <dir> (expects data/, labels/combined_windows.json)`,
    );
    process.exit(2);
  }
  const corpus = loadCorpus(opts.data);
  const rows = corpus.reduce((n, s) => n + s.values.length, 0);
  const t0 = performance.now();
  const scores = corpus.map((s) => runSeries(s, () => new StreamingScorer()));
  const seconds = (performance.now() - t0) / 1000;
  const ours: ProfileResult[] = scoreCorpus(corpus, scores);
  const published = loadFinalResults(opts.data);
  const rescored: Record<string, Record<string, number> | undefined> = {
    numenta: rescorePublished(opts.data, corpus, 'numenta'),
    knncad: rescorePublished(opts.data, corpus, 'knncad'),
  };

  if (opts.json) {
    console.log(JSON.stringify({ series: corpus.length, rows, seconds, meshward: ours, rescored, published }, null, 2));
    return;
  }
  console.log(
    `NAB v1.1: ${corpus.length} series, ${rows} rows, scored in ${seconds.toFixed(1)} s (${Math.round(rows / seconds)} rows/s)`,
  );
  console.log('');
  const header = ['detector'.padEnd(26), ...PROFILE_NAMES.map((p) => p.padStart(20))].join('');
  console.log(header);
  console.log('-'.repeat(header.length));
  const line = (name: string, values: (number | undefined)[]) =>
    console.log([name.padEnd(26), ...values.map((v) => (v === undefined ? '-' : v.toFixed(2)).padStart(20))].join(''));
  line(
    'meshward metric_anomaly',
    ours.map((r) => r.normalised),
  );
  for (const d of SHOWN) {
    if (published[d])
      line(
        d,
        PROFILE_NAMES.map((p) => published[d][p]),
      );
  }
  for (const [d, r] of Object.entries(rescored)) {
    if (r)
      line(
        `${d} (re-scored here)`,
        PROFILE_NAMES.map((p) => r[p]),
      );
  }
  console.log('');
  for (const r of ours) {
    console.log(
      `meshward ${r.profile}: threshold ${r.threshold.toFixed(4)}, raw ${r.raw.toFixed(2)}, normalised ${r.normalised.toFixed(2)}`,
    );
  }
}

main(process.argv);

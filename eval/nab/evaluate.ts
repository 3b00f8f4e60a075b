/** Run a streaming scorer over NAB series and score it with the NAB rules for every profile. */
import type { NabSeries } from './corpus.js';
import {
  normalise,
  PROFILE_NAMES,
  PROFILES,
  type PreparedFile,
  type ProfileName,
  prepareFile,
  scoreFile,
  sweep,
  windowsToRows,
} from './scorer.js';

export interface StreamingScorer {
  update(timestamp: number, value: number): number;
}

export interface ProfileResult {
  profile: ProfileName;
  threshold: number;
  raw: number;
  normalised: number;
}

export interface FileBreakdown {
  key: string;
  score: number;
  tp: number;
  fp: number;
  fn: number;
}

/** per-row scores of one series, scored causally row by row */
export function runSeries(series: NabSeries, make: () => StreamingScorer): Float64Array {
  const scorer = make();
  const out = new Float64Array(series.values.length);
  for (let i = 0; i < out.length; i++) out[i] = scorer.update(series.timestamps[i], series.values[i]);
  return out;
}

/** NAB's three profiles: the best single threshold over the corpus (a sweep), its raw and normalised scores */
export function scoreCorpus(corpus: readonly NabSeries[], scores: readonly ArrayLike<number>[]): ProfileResult[] {
  return PROFILE_NAMES.map((name) => {
    const profile = PROFILES[name];
    const files = corpus.map((s, i) => ({ file: prepare(s, name), scores: scores[i] }));
    const windows = files.reduce((n, f) => n + f.file.windows, 0);
    const best = sweep(files, profile);
    return {
      profile: name,
      threshold: best.threshold,
      raw: best.score,
      normalised: normalise(best.score, profile, windows),
    };
  });
}

/** the score of each file at one threshold, for finding where a detector wins or loses */
export function breakdown(
  corpus: readonly NabSeries[],
  scores: readonly ArrayLike<number>[],
  profile: ProfileName,
  threshold: number,
): FileBreakdown[] {
  return corpus.map((s, i) => {
    const r = scoreFile(prepare(s, profile), scores[i], threshold, PROFILES[profile]);
    return { key: s.key, score: r.score, tp: r.tp, fp: r.fp, fn: r.fn };
  });
}

const prepared = new WeakMap<NabSeries, Map<ProfileName, PreparedFile>>();

function prepare(s: NabSeries, profile: ProfileName): PreparedFile {
  let byProfile = prepared.get(s);
  if (!byProfile) {
    byProfile = new Map();
    prepared.set(s, byProfile);
  }
  let f = byProfile.get(profile);
  if (!f) {
    f = prepareFile(s.key, s.values.length, windowsToRows(s.timestamps, s.windows), PROFILES[profile]);
    byProfile.set(profile, f);
  }
  return f;
}

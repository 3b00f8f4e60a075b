/**
 * The Numenta Anomaly Benchmark scoring rules (NAB v1.1): probation, scaled sigmoid, windows, per-profile weights,
 * normalisation against the null and perfect detectors, and the corpus-wide threshold sweep NAB uses to pick one
 * threshold per detector and profile. See /work/shared/eval/nab/README.md for the rules in prose.
 */

export interface Profile {
  readonly name: ProfileName;
  readonly tp: number;
  readonly fn: number;
  readonly fp: number;
}

export type ProfileName = 'standard' | 'reward_low_FP_rate' | 'reward_low_FN_rate';

export const PROFILES: Readonly<Record<ProfileName, Profile>> = {
  standard: { name: 'standard', tp: 1.0, fn: 1.0, fp: 0.11 },
  reward_low_FP_rate: { name: 'reward_low_FP_rate', tp: 1.0, fn: 1.0, fp: 0.22 },
  reward_low_FN_rate: { name: 'reward_low_FN_rate', tp: 1.0, fn: 2.0, fp: 0.11 },
};

export const PROFILE_NAMES: readonly ProfileName[] = ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'];

/** `S(y) = 2 / (1 + e^(5y)) - 1`, and -1 beyond y = 3 */
export function scaledSigmoid(y: number): number {
  if (y > 3) return -1;
  return 2 / (1 + Math.exp(5 * y)) - 1;
}

/** rows not scored at the start of a file: min(floor(0.15 n), 0.15 * 5000) */
export function probationLength(rows: number): number {
  return Math.min(Math.floor(0.15 * rows), 0.15 * 5000);
}

/** an anomaly window as inclusive row indices */
export interface WindowRows {
  left: number;
  right: number;
}

/**
 * Map label windows given as timestamps onto row indices: the first row at or after the start, the last row at or
 * before the end (NAB's labels sit exactly on rows, so this is an exact match there).
 */
export function windowsToRows(
  timestamps: readonly number[],
  windows: readonly (readonly [number, number])[],
): WindowRows[] {
  const out: WindowRows[] = [];
  for (const [start, end] of windows) {
    const left = lowerBound(timestamps, start);
    const right = upperBound(timestamps, end) - 1;
    if (left <= right) out.push({ left, right });
  }
  return out;
}

function lowerBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** row kind: PROBATION (not scored), OUTSIDE (false positive if detected) or the index of the window holding the row */
export const PROBATION = -2;
export const OUTSIDE = -1;

/** what each row of one file is worth under one profile, computed once and reused for every threshold */
export interface PreparedFile {
  readonly name: string;
  readonly rows: number;
  readonly windows: number;
  /** per row: PROBATION, OUTSIDE or a window index */
  readonly kind: Int32Array;
  /** per row: the weighted worth if the row is detected */
  readonly worth: Float64Array;
}

export function prepareFile(
  name: string,
  rows: number,
  windows: readonly WindowRows[],
  profile: Profile,
): PreparedFile {
  const kind = new Int32Array(rows);
  const worth = new Float64Array(rows);
  const probation = probationLength(rows);
  const sMinus1 = scaledSigmoid(-1);
  const sorted = [...windows].sort((a, b) => a.left - b.left);
  let w = 0;
  let prevRight = -1;
  let prevWidth = 0;
  for (let i = 0; i < rows; i++) {
    while (w < sorted.length && sorted[w].right < i) {
      prevRight = sorted[w].right;
      prevWidth = sorted[w].right - sorted[w].left + 1;
      w++;
    }
    const cur = w < sorted.length && sorted[w].left <= i ? sorted[w] : undefined;
    if (cur) {
      const width = cur.right - cur.left + 1;
      const y = -(cur.right - i + 1) / width;
      worth[i] = (scaledSigmoid(y) * profile.tp) / sMinus1;
      kind[i] = w;
    } else {
      const unweighted = prevRight < 0 ? -1 : scaledSigmoid(Math.abs(prevRight - i) / (prevWidth - 1));
      worth[i] = unweighted * profile.fp;
      kind[i] = OUTSIDE;
    }
    if (i < probation) kind[i] = PROBATION;
  }
  // a window counts only when at least one of its rows is scored (NAB builds its window list from scorable rows)
  const scoredWindows = new Set<number>();
  for (let i = 0; i < rows; i++) if (kind[i] >= 0) scoredWindows.add(kind[i]);
  const remap = new Map<number, number>();
  for (const idx of [...scoredWindows].sort((a, b) => a - b)) remap.set(idx, remap.size);
  for (let i = 0; i < rows; i++) if (kind[i] >= 0) kind[i] = remap.get(kind[i]) as number;
  return { name, rows, windows: remap.size, kind, worth };
}

export interface FileScore {
  score: number;
  tp: number;
  fp: number;
  fn: number;
  /** scored rows outside windows that were not detected */
  tn: number;
}

/** raw score of one file at one threshold: a row is detected when its anomaly score >= threshold */
export function scoreFile(
  file: PreparedFile,
  scores: ArrayLike<number>,
  threshold: number,
  profile: Profile,
): FileScore {
  if (scores.length !== file.rows) throw new Error(`${file.name}: ${scores.length} scores for ${file.rows} rows`);
  const best = new Float64Array(file.windows).fill(Number.NEGATIVE_INFINITY);
  let fpSum = 0;
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let inWindowDetected = 0;
  for (let i = 0; i < file.rows; i++) {
    const k = file.kind[i];
    if (k === PROBATION) continue;
    const detected = scores[i] >= threshold;
    if (k === OUTSIDE) {
      if (detected) {
        fp++;
        fpSum += file.worth[i];
      } else tn++;
    } else if (detected) {
      inWindowDetected++;
      if (file.worth[i] > best[k]) best[k] = file.worth[i];
    }
  }
  let score = fpSum;
  let fn = 0;
  for (let w = 0; w < file.windows; w++) {
    if (best[w] === Number.NEGATIVE_INFINITY) {
      score -= profile.fn;
      fn++;
    } else score += best[w];
  }
  tp = inWindowDetected;
  return { score, tp, fp, fn, tn };
}

export interface SweepPoint {
  threshold: number;
  score: number;
}

export interface SweepResult {
  threshold: number;
  score: number;
  /** every candidate threshold (distinct scores, descending, starting above the largest) with its corpus score */
  curve: SweepPoint[];
}

/**
 * Corpus-wide sweep: every distinct anomaly score is a candidate threshold. Rows are visited once in descending
 * score order while the corpus score is kept up to date (false positives add their worth; a window's part is the
 * best worth among its detected rows), so the whole curve costs one sort: O(N log N).
 * Ties go to the higher threshold (NAB keeps the first maximum of a descending sweep).
 */
export function sweep(
  files: readonly { file: PreparedFile; scores: ArrayLike<number> }[],
  profile: Profile,
): SweepResult {
  let n = 0;
  let totalWindows = 0;
  for (const { file } of files) {
    for (let i = 0; i < file.rows; i++) if (file.kind[i] !== PROBATION) n++;
    totalWindows += file.windows;
  }
  const score = new Float64Array(n);
  const worth = new Float64Array(n);
  const win = new Int32Array(n);
  let p = 0;
  let windowBase = 0;
  for (const { file, scores } of files) {
    if (scores.length !== file.rows) throw new Error(`${file.name}: ${scores.length} scores for ${file.rows} rows`);
    for (let i = 0; i < file.rows; i++) {
      const k = file.kind[i];
      if (k === PROBATION) continue;
      score[p] = scores[i];
      worth[p] = file.worth[i];
      win[p] = k === OUTSIDE ? OUTSIDE : windowBase + k;
      p++;
    }
    windowBase += file.windows;
  }
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => score[b] - score[a]);

  const best = new Float64Array(totalWindows).fill(-profile.fn);
  let total = -profile.fn * totalWindows;
  const curve: SweepPoint[] = [{ threshold: 1.1, score: total }];
  let bestPoint: SweepPoint = curve[0];
  let i = 0;
  while (i < n) {
    const t = score[order[i]];
    while (i < n && score[order[i]] === t) {
      const r = order[i];
      const w = win[r];
      if (w === OUTSIDE) total += worth[r];
      else if (worth[r] > best[w]) {
        total += worth[r] - best[w];
        best[w] = worth[r];
      }
      i++;
    }
    const point = { threshold: t, score: total };
    curve.push(point);
    if (point.score > bestPoint.score) bestPoint = point;
  }
  return { threshold: bestPoint.threshold, score: bestPoint.score, curve };
}

/** raw score of the detector that never fires, and of the one that detects every window at its start */
export function nullScore(profile: Profile, windows: number): number {
  return -profile.fn * windows;
}

export function perfectScore(profile: Profile, windows: number): number {
  return profile.tp * windows;
}

/** 100 * (raw - null) / (perfect - null) */
export function normalise(raw: number, profile: Profile, windows: number): number {
  const lo = nullScore(profile, windows);
  const hi = perfectScore(profile, windows);
  return (100 * (raw - lo)) / (hi - lo);
}

/** Reading the NAB corpus: data files, label windows and published per-row scores. */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mwError } from '../../pipeline/core/errors.js';

export interface NabSeries {
  /** `category/file.csv`, the key NAB uses in its label file */
  key: string;
  /** epoch ms (timestamps read as UTC) */
  timestamps: number[];
  values: number[];
  /** label windows as [start, end] epoch ms */
  windows: [number, number][];
}

/** `YYYY-MM-DD HH:MM:SS[.ffffff]` read as UTC, in epoch ms */
export function parseTimestamp(s: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(s.trim());
  if (!m) throw mwError('BAD_REQUEST', `bad NAB timestamp "${s}"`);
  const ms = m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], ms);
}

/** a two-column CSV with a header: `timestamp,<number>` */
export function parseTwoColumnCsv(text: string): { timestamps: number[]; values: number[] } {
  const timestamps: number[] = [];
  const values: number[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.length === 0) continue;
    const comma = line.indexOf(',');
    if (comma < 0) throw mwError('BAD_REQUEST', `line ${i + 1}: expected "timestamp,value"`);
    timestamps.push(parseTimestamp(line.slice(0, comma)));
    const v = Number(line.slice(comma + 1));
    if (!Number.isFinite(v)) throw mwError('BAD_REQUEST', `line ${i + 1}: value is not a number`);
    values.push(v);
  }
  return { timestamps, values };
}

export function parseLabels(json: string): Record<string, [number, number][]> {
  const raw = JSON.parse(json) as Record<string, [string, string][]>;
  const out: Record<string, [number, number][]> = {};
  for (const [key, wins] of Object.entries(raw)) {
    out[key] = wins.map(([a, b]) => [parseTimestamp(a), parseTimestamp(b)] as [number, number]);
  }
  return out;
}

/** the repository root (two levels above this file, in src and in dist alike) */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/** `<repo>/../shared/eval/nab` */
export function defaultDataDir(): string {
  return resolve(repoRoot(), '..', 'shared', 'eval', 'nab');
}

export function hasCorpus(dir: string): boolean {
  return existsSync(join(dir, 'labels', 'combined_windows.json')) && existsSync(join(dir, 'data'));
}

/** every series of the corpus, sorted by key */
export function loadCorpus(dir: string): NabSeries[] {
  if (!hasCorpus(dir)) {
    throw mwError('NOT_FOUND', `NAB data not found at ${dir} (expected data/ and labels/combined_windows.json)`);
  }
  const labels = parseLabels(readFileSync(join(dir, 'labels', 'combined_windows.json'), 'utf8'));
  const out: NabSeries[] = [];
  for (const key of Object.keys(labels).sort()) {
    const { timestamps, values } = parseTwoColumnCsv(readFileSync(join(dir, 'data', key), 'utf8'));
    out.push({ key, timestamps, values, windows: labels[key] });
  }
  return out;
}

/** the per-row scores a published detector produced for one series, or undefined when not shipped */
export function loadPublishedScores(dir: string, detector: string, key: string): number[] | undefined {
  const [category, file] = key.split('/');
  const path = join(dir, 'published', detector, category, `${detector}_${file}`);
  if (!existsSync(path)) return undefined;
  return parseTwoColumnCsv(readFileSync(path, 'utf8')).values;
}

export function publishedDetectors(dir: string): string[] {
  const p = join(dir, 'published');
  return readdirSync(p, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

export type ResultsByDetector = Record<string, Record<string, number>>;
export type ThresholdsByDetector = Record<string, Record<string, { score: number; threshold: number }>>;

export function loadFinalResults(dir: string): ResultsByDetector {
  return JSON.parse(readFileSync(join(dir, 'published', 'final_results.json'), 'utf8')) as ResultsByDetector;
}

export function loadThresholds(dir: string): ThresholdsByDetector {
  return JSON.parse(readFileSync(join(dir, 'published', 'thresholds.json'), 'utf8')) as ThresholdsByDetector;
}

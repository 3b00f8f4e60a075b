import { mwError } from '../../core/errors.js';
import type { MeshScope } from '../detector.js';
import { meshKey } from '../shared/mesh-keys.js';

/** one partition's part of an alert: the amplified requests it counted, their backend calls, the most of one, a trace */
export type Part = [requests: number, calls: number, max: number, trace: string];

/**
 * One alert's episode as the store holds it, shared by the partitions of the trace stream: the partition that
 * signals it (the first to claim it), its first amplified request (its id derives from it), the latest backend call
 * any partition counted into it, and each partition's part
 */
export interface Episode {
  p: number;
  since: number;
  last: number;
  parts: Record<string, Part>;
}

/** what the partitions of an episode counted together */
export interface EpisodeTotals {
  since: number;
  last: number;
  requests: number;
  calls: number;
  max: number;
  partitions: number;
  /** a trace of each partition, this one's first */
  traces: string[];
}

/** attempts of one read-modify-write of an episode before the sync gives up (and tries again at the next) */
const MAX_ATTEMPTS = 8;

/** the store key of an alert's episodes: `fanout:<group>:<hash of service, endpoint and subject>` */
export const episodeKey = (scope: MeshScope, alertKey: string): string => meshKey(scope, 'fanout', [], alertKey);

/** an episode as stored, or undefined for anything else there (then replaced) */
export function parseEpisode(raw: string | null): Episode | undefined {
  if (raw === null) return undefined;
  try {
    const e = JSON.parse(raw) as Episode;
    if (Number.isSafeInteger(e.p) && Number.isFinite(e.since) && Number.isFinite(e.last) && typeof e.parts === 'object')
      return e;
  } catch {
    // replaced below
  }
  return undefined;
}

export function totalsOf(e: Episode, partition: number): EpisodeTotals {
  const t: EpisodeTotals = { since: e.since, last: e.last, requests: 0, calls: 0, max: 0, partitions: 0, traces: [] };
  const own = e.parts[String(partition)];
  if (own) t.traces.push(own[3]);
  for (const [p, [requests, calls, max, trace]] of Object.entries(e.parts)) {
    t.requests += requests;
    t.calls += calls;
    t.max = Math.max(t.max, max);
    t.partitions++;
    if (p !== String(partition)) t.traces.push(trace);
  }
  return t;
}

/** this partition's alert as it stands: its first amplified request, its last call, and its part */
export interface LocalAlert {
  from: number;
  to: number;
  part: Part;
  /** the episode it joined (its since), if it did */
  episode?: number;
}

/**
 * Writes this partition's part of an alert into its episode and returns the episode: the one the alert joined; else
 * (its first sync, or that episode was replaced) the stored one unless it ended before the alert's first request (no
 * call counted into it for `resolveAfterMs`, event time); else a new one, which this partition claims and signals.
 * One atomic read-modify-write (compare-and-set, again on a conflict). Parts are absolute: a partition replaying
 * from its checkpoint writes the same part again, never counted twice
 */
export async function writePart(
  scope: MeshScope,
  key: string,
  local: LocalAlert,
  resolveAfterMs: number | undefined,
  ttlMs: number,
): Promise<{ episode: Episode; conflicts: number }> {
  const me = String(scope.partition);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const raw = await scope.store.get(key);
    const stored = parseEpisode(raw);
    const ended = stored !== undefined && resolveAfterMs !== undefined && local.from - stored.last >= resolveAfterMs;
    const next: Episode =
      stored !== undefined && (stored.since === local.episode || !ended)
        ? { ...stored, parts: { ...stored.parts } }
        : { p: scope.partition, since: local.from, last: local.to, parts: {} };
    const before = next.parts[me];
    next.parts[me] = local.part;
    next.last = Math.max(next.last, local.to);
    if (
      stored !== undefined &&
      next.since === stored.since &&
      next.last === stored.last &&
      samePart(before, local.part)
    )
      return { episode: stored, conflicts: attempt };
    if (await scope.store.compareAndSet(key, raw, JSON.stringify(next), ttlMs))
      return { episode: next, conflicts: attempt };
  }
  throw mwError('CONFLICT', `fan_out: the shared alert ${key} kept changing under concurrent writes`);
}

/** the episode as the store holds it now (undefined once it expired) */
export async function readEpisode(scope: MeshScope, key: string): Promise<Episode | undefined> {
  return parseEpisode(await scope.store.get(key));
}

const samePart = (a: Part | undefined, b: Part): boolean =>
  a !== undefined && a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];

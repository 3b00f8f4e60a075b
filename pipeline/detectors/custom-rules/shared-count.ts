import { createHash } from 'node:crypto';
import { mwError } from '../../core/errors.js';
import type { MeshScope } from '../detector.js';

/** the total of a shared count and how many partitions have a share in it */
export interface SharedTotal {
  total: number;
  partitions: number;
}

/** compareAndSet attempts before a write gives up (another shard wrote the same count each time) */
const ATTEMPTS = 8;

/**
 * The store key of one group's shared count in one window: `rulecount:<group>:<rule>:<window index>:<hash>`. The
 * group's values (a user, an address) are hashed: the key's length stays bounded, and they are not written out
 */
export function sharedCountKey(scope: MeshScope, rule: string, window: number, groupKey: string): string {
  const hash = createHash('sha256').update(groupKey).digest('base64url').slice(0, 22);
  return `rulecount:${scope.group}:${rule}:${window}:${hash}`;
}

/** the key naming the partition that signals a shared count's alert (the first to see its total reach the threshold) */
export const ownerKey = (countKey: string): string => `${countKey}:owner`;

/** each partition's share of a count, by partition; anything else stored there reads as no shares */
function sharesOf(raw: string | null): Record<string, number> {
  if (raw === null) return {};
  try {
    const v = JSON.parse(raw) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
    const shares: Record<string, number> = {};
    for (const [p, n] of Object.entries(v)) if (Number.isSafeInteger(n) && (n as number) > 0) shares[p] = n as number;
    return shares;
  } catch {
    return {};
  }
}

function totalOf(shares: Record<string, number>): SharedTotal {
  let total = 0;
  let partitions = 0;
  for (const n of Object.values(shares)) {
    total += n;
    partitions++;
  }
  return { total, partitions };
}

/**
 * Writes this partition's share of a shared count and returns the total. The share is the partition's whole count in
 * the window, not an increment: a shard replaying from its checkpoint writes the same number again, so a replay never
 * counts a match twice. The shards of other correlators write the same key: read, then compareAndSet, again on a
 * conflict (CONFLICT after a few). The key expires `ttlMs` after its last write
 */
export async function writeShare(scope: MeshScope, key: string, count: number, ttlMs: number): Promise<SharedTotal> {
  const me = String(scope.partition);
  for (let i = 0; i < ATTEMPTS; i++) {
    const raw = await scope.store.get(key);
    const shares = sharesOf(raw);
    shares[me] = count;
    if (await scope.store.compareAndSet(key, raw, JSON.stringify(shares), ttlMs)) return totalOf(shares);
  }
  throw mwError('CONFLICT', `shared count ${key}: other shards wrote it ${ATTEMPTS} times in a row; retried later`);
}

/** the total of a shared count as the store holds it (0 once it expired) */
export async function readTotal(scope: MeshScope, key: string): Promise<SharedTotal> {
  return totalOf(sharesOf(await scope.store.get(key)));
}

/**
 * Whether this partition signals the count's alert: the first partition to claim it does, so that one alert, raised
 * and refreshed by one shard, says what the whole mesh counted. A partition that claimed it before (a replay, or the
 * partition's new owner after a move) is still the one
 */
export async function claimAlert(scope: MeshScope, key: string, ttlMs: number): Promise<boolean> {
  const me = String(scope.partition);
  if (await scope.store.setIfAbsent(ownerKey(key), me, ttlMs)) return true;
  return (await scope.store.get(ownerKey(key))) === me;
}

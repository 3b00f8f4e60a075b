import { createHash } from 'node:crypto';
import { sharesOf, totalOf } from '../../store/shares.js';
import type { MeshScope } from '../detector.js';

/** the total of a shared count and how many partitions have a share in it */
export interface SharedTotal {
  total: number;
  partitions: number;
}

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

/**
 * Writes this partition's share of a shared count and returns the total (Store.setShare, one atomic round trip). The
 * share is the partition's whole count in the window, not an increment: a shard replaying from its checkpoint writes
 * the same number again, so a replay never counts a match twice. The key expires `ttlMs` after its last write
 */
export async function writeShare(scope: MeshScope, key: string, count: number, ttlMs: number): Promise<SharedTotal> {
  const { total, members } = await scope.store.setShare(key, String(scope.partition), count, ttlMs);
  return { total, partitions: members };
}

/** the total of a shared count as the store holds it (0 once it expired) */
export async function readTotal(scope: MeshScope, key: string): Promise<SharedTotal> {
  const { total, members } = totalOf(sharesOf(await scope.store.get(key)));
  return { total, partitions: members };
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

import { sharesOf, totalOf } from '../../store/shares.js';
import type { MeshScope } from '../detector.js';
import { meshKey } from '../shared/mesh-keys.js';

/** the total of a shared count and how many partitions have a share in it */
export interface SharedTotal {
  total: number;
  partitions: number;
}

/**
 * The store key of one group's shared count in one window: `rulecount:<group>:<rule>:<window index>:<hash>`. The
 * group's values (a user, an address) are hashed: the key's length stays bounded, and they are not written out
 */
export const sharedCountKey = (scope: MeshScope, rule: string, window: number, groupKey: string): string =>
  meshKey(scope, 'rulecount', [rule, window], groupKey);

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

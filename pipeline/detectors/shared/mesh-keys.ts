import { createHash } from 'node:crypto';
import type { MeshScope } from '../detector.js';

/**
 * A key of what the shards of a correlator group share in the store: `<kind>:<group>:<parts…>:<hash>`. What it is
 * about (a user, an address, a group's values) is hashed: the key's length stays bounded, and it is not written out
 */
export function meshKey(scope: MeshScope, kind: string, parts: readonly (string | number)[], about: string): string {
  const hash = createHash('sha256').update(about).digest('base64url').slice(0, 22);
  return [kind, scope.group, ...parts, hash].join(':');
}

/** the key naming the partition that signals a shared key's alert */
export const ownerKey = (key: string): string => `${key}:owner`;

/**
 * Whether this partition signals the alert of a shared key: the first partition to claim it does, so that one alert,
 * raised and refreshed by one shard, says what the whole mesh counted. A partition that claimed it before (a replay,
 * or the partition's new owner after a move) is still the one
 */
export async function claimAlert(scope: MeshScope, key: string, ttlMs: number): Promise<boolean> {
  const me = String(scope.partition);
  if (await scope.store.setIfAbsent(ownerKey(key), me, ttlMs)) return true;
  return (await scope.store.get(ownerKey(key))) === me;
}

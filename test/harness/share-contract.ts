import { expect } from 'vitest';
import { MeshwardError } from '../../pipeline/core/errors.js';
import type { Store } from '../../pipeline/store/store.js';

/**
 * what every store's setShare does on `key`: each member's whole count (written again: no change), the total and how
 * many members have a share; 0 takes a member out; anything else stored there is replaced; a count that is not a whole
 * number >= 0 is refused
 */
export async function shareContract(store: Store, key: string): Promise<void> {
  expect(await store.setShare(key, '0', 3, 60_000)).toEqual({ total: 3, members: 1 });
  expect(await store.setShare(key, '2', 4, 60_000)).toEqual({ total: 7, members: 2 });
  // a replay writes the same share again
  expect(await store.setShare(key, '0', 3, 60_000)).toEqual({ total: 7, members: 2 });
  expect(await store.setShare(key, '0', 5, 60_000)).toEqual({ total: 9, members: 2 });
  expect(JSON.parse((await store.get(key)) ?? 'null')).toEqual({ 0: 5, 2: 4 });
  expect(await store.setShare(key, '2', 0, 60_000)).toEqual({ total: 5, members: 1 });
  await store.set(`${key}-junk`, 'not json');
  expect(await store.setShare(`${key}-junk`, '1', 2, 60_000)).toEqual({ total: 2, members: 1 });
  const refused = await store.setShare(key, '1', 1.5, 60_000).then(
    () => 'written',
    (e: unknown) => (e instanceof MeshwardError ? e.code : String(e)),
  );
  expect(refused).toBe('MW_ERR_BAD_REQUEST');
}

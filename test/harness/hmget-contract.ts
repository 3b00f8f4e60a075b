import { expect } from 'vitest';
import type { Store } from '../../pipeline/store/store.js';

/**
 * what every store's hmget does, on the hash `key`: the fields' values in the order asked, null for a field the hash
 * does not hold, all null for a hash that does not exist, the value an hget of each field reads
 */
export async function hmgetContract(store: Store, key: string): Promise<void> {
  await store.hset(key, 'a', '1');
  await store.hset(key, 'b', '{"x":2}');
  await store.hset(key, 'empty', '');
  const fields = ['b', 'missing', 'a', 'empty', 'a'];
  expect(await store.hmget(key, fields)).toEqual(['{"x":2}', null, '1', '', '1']);
  expect(await store.hmget(key, fields)).toEqual(await Promise.all(fields.map((f) => store.hget(key, f))));
  expect(await store.hmget(key, [])).toEqual([]);
  expect(await store.hmget(`${key}-none`, ['a', 'b'])).toEqual([null, null]);
  await store.hdel(key, 'a');
  expect(await store.hmget(key, ['a', 'b'])).toEqual([null, '{"x":2}']);
}

import { expect } from 'vitest';
import type { Store } from '../../pipeline/store/store.js';

/**
 * what every store's lex index does (Store.lexIndexSet / lexIndexRange), on the index `index`: one entry per id,
 * replaced or removed atomically, read from the highest entry down in byte order, below an exclusive bound
 */
export async function lexIndexContract(store: Store, index: string): Promise<void> {
  await store.lexIndexSet(index, 'a', 'b1a');
  await store.lexIndexSet(index, 'b', 'a9b');
  await store.lexIndexSet(index, 'c', 'b1c');
  await store.lexIndexSet(index, 'd', 'b1'); // an entry sorts before the longer entries it begins
  expect(await store.lexIndexRange(index, { limit: 10 })).toEqual(['b1c', 'b1a', 'b1', 'a9b']);
  expect(await store.lexIndexRange(index, { limit: 2 })).toEqual(['b1c', 'b1a']);
  expect(await store.lexIndexRange(index, { below: 'b1c', limit: 10 })).toEqual(['b1a', 'b1', 'a9b']);
  // a bound that is no entry
  expect(await store.lexIndexRange(index, { below: 'b1b', limit: 10 })).toEqual(['b1a', 'b1', 'a9b']);
  expect(await store.lexIndexRange(index, { below: 'a', limit: 10 })).toEqual([]);
  expect(await store.lexIndexRange(index, { limit: 0 })).toEqual([]);
  // an id's new entry replaces its old one; the same entry again changes nothing; null removes it
  await store.lexIndexSet(index, 'a', 'a0a');
  await store.lexIndexSet(index, 'c', 'b1c');
  await store.lexIndexSet(index, 'd', null);
  await store.lexIndexSet(index, 'nobody', null);
  expect(await store.lexIndexRange(index, { limit: 10 })).toEqual(['b1c', 'a9b', 'a0a']);
  expect(await store.lexIndexRange('no-such-index', { limit: 10 })).toEqual([]);
}

/**
 * del(index) takes the whole index, the ids' entries too: the index is then as a new one, and an id's entry written
 * again as it was before is in it. `checkGone` runs right after the del (Redis: no key of the index is left)
 */
export async function lexIndexDelContract(
  store: Store,
  index: string,
  checkGone: () => Promise<void> = async () => {},
): Promise<void> {
  await store.lexIndexSet(index, 'a', 'a1a');
  await store.lexIndexSet(index, 'b', 'b1b');
  await store.del(index);
  await checkGone();
  expect(await store.lexIndexRange(index, { limit: 10 })).toEqual([]);
  await store.lexIndexSet(index, 'a', 'a1a');
  await store.lexIndexSet(index, 'c', 'c1c');
  expect(await store.lexIndexRange(index, { limit: 10 })).toEqual(['c1c', 'a1a']);
  // b had no entry since the del: removing it changes nothing
  await store.lexIndexSet(index, 'b', null);
  await store.lexIndexSet(index, 'a', null);
  expect(await store.lexIndexRange(index, { limit: 10 })).toEqual(['c1c']);
}

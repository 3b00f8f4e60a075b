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

/** store calls a mesh sync has in flight at once */
export const PARALLEL_STORE_CALLS = 64;

/** runs `fn` over the items, `parallel` at a time, chunk after chunk; the first failure stops it */
export async function inChunks<T>(
  items: readonly T[],
  fn: (item: T) => Promise<void>,
  parallel = PARALLEL_STORE_CALLS,
): Promise<void> {
  for (let i = 0; i < items.length; i += parallel) await Promise.all(items.slice(i, i + parallel).map(fn));
}

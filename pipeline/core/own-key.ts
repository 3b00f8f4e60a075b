/**
 * Sets `key` on `obj` as an own, enumerable property: defined, not assigned, so a caller's `__proto__` parameter or
 * tag is a key like any other, never the object's prototype.
 */
export function setOwn<T>(obj: Record<string, T>, key: string, value: NoInfer<T>): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

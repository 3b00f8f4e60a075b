import { createHash } from 'node:crypto';
import { monotonicFactory } from 'ulidx';

const ulid = monotonicFactory();

/** a new ULID (sortable, unique) */
export const newId = (): string => ulid();

/** a stable id from parts: the same inputs give the same id (idempotent alerts and decisions) */
export function stableId(prefix: string, ...parts: (string | number | undefined)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(`${p ?? ''}\u0000`);
  return `${prefix}_${h.digest('base64url').slice(0, 22)}`;
}

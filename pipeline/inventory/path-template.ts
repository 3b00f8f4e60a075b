/**
 * Turns a raw path (query included) into a route template: id-like segments become `{id}`-style placeholders so
 * `/users/123` and `/users/456` are one endpoint. Placeholder stand-in; the inventory work replaces it.
 */
const NUMERIC = /^\d+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX = /^[0-9a-f]{16,}$/i;

export function templatePath(rawPath: string): string {
  const q = rawPath.indexOf('?');
  const path = q === -1 ? rawPath : rawPath.slice(0, q);
  const parts = path.split('/');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (NUMERIC.test(p)) parts[i] = '{id}';
    else if (UUID.test(p)) parts[i] = '{uuid}';
    else if (HEX.test(p)) parts[i] = '{hash}';
  }
  return parts.join('/') || '/';
}

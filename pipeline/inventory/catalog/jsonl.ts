import { mwError } from '../../core/errors.js';
import { type CatalogEntry, CatalogEntrySchema } from './catalog-entry.js';
import { checkOrThrow } from './validate.js';

/**
 * Parses a JSONL catalogue: one entry per line, blank lines and `#` comments skipped. The first bad line stops the
 * import with MW_ERR_CATALOG_INVALID naming the file, line and field (a catalogue half loaded is worse than none).
 */
export function parseCatalogJsonl(text: string, source = 'catalogue'): CatalogEntry[] {
  const out: CatalogEntry[] = [];
  const ids = new Set<string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line || line.startsWith('#')) continue;
    const where = `${source} line ${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw mwError('CATALOG_INVALID', `${where}: not valid JSON (${(err as Error).message})`, { where });
    }
    const entry = checkOrThrow<CatalogEntry>(CatalogEntrySchema, value, where);
    if (ids.has(entry.id))
      throw mwError('CATALOG_INVALID', `${where}: id: duplicate id ${entry.id}`, { where, field: 'id' });
    ids.add(entry.id);
    out.push(entry);
  }
  return out;
}

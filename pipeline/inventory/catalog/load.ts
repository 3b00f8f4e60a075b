import { readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { MeshwardError, mwError } from '../../core/errors.js';
import { parseYamlBounded } from '../../core/yaml.js';
import type { CatalogEntry } from './catalog-entry.js';
import { parseCatalogJsonl } from './jsonl.js';
import { importOpenApi } from './openapi.js';

export const MAX_CATALOG_BYTES = 64 * 1024 * 1024;

/** parse a JSON or YAML text; any parser failure (syntax, nesting depth, alias bombs) → MW_ERR_CATALOG_INVALID */
export function parseDocument(text: string, source: string, yaml: boolean): unknown {
  try {
    return yaml
      ? parseYamlBounded(text, { maxAliasCount: 100, uniqueKeys: false, warnings: 'ignore' })
      : JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message?.split('\n')[0] ?? String(err);
    throw mwError('CATALOG_INVALID', `${source}: not valid ${yaml ? 'YAML' : 'JSON'} (${msg})`, { where: source }, err);
  }
}

/** a catalogue (or `--apis`) file that cannot be read: missing, a folder, not allowed */
export const unreadableCatalog = (file: string, err: unknown) =>
  mwError(
    'CATALOG_INVALID',
    `${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    { where: file },
    err,
  );

/**
 * Loads catalogue entries from one file: `.jsonl` (one entry per line), or an OpenAPI 3 / Swagger 2 document in
 * `.json`, `.yaml` or `.yml`. Every problem is a MW_ERR_CATALOG_INVALID error naming the file.
 */
export async function loadCatalogFile(file: string): Promise<CatalogEntry[]> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (err) {
    throw unreadableCatalog(file, err);
  }
  if (size > MAX_CATALOG_BYTES)
    throw mwError('CATALOG_INVALID', `${file}: larger than ${MAX_CATALOG_BYTES} bytes`, { where: file });
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    // a folder passes stat, and fails here
    throw unreadableCatalog(file, err);
  }
  return parseCatalogText(text, file);
}

export function parseCatalogText(text: string, source: string): CatalogEntry[] {
  const ext = extname(source).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return parseCatalogJsonl(text, source);
  const doc = parseDocument(text, source, ext === '.yaml' || ext === '.yml');
  try {
    return [importOpenApi(doc, source)];
  } catch (err) {
    if (err instanceof MeshwardError) throw err;
    throw mwError('CATALOG_INVALID', `${source}: ${(err as Error).message}`, { where: source }, err);
  }
}

/** the catalogue files' version: each one's size and modification time (a missing file: its path alone) */
export function catalogFilesVersion(files: readonly string[]): string {
  return JSON.stringify(
    files.map((f) => {
      try {
        const s = statSync(f);
        return [f, s.size, s.mtimeMs];
      } catch {
        return [f];
      }
    }),
  );
}

export async function loadCatalogFiles(files: readonly string[]): Promise<CatalogEntry[]> {
  const all: CatalogEntry[] = [];
  const ids = new Set<string>();
  for (const f of files) {
    for (const e of await loadCatalogFile(f)) {
      if (ids.has(e.id)) throw mwError('CATALOG_INVALID', `${f}: id: duplicate id ${e.id} across catalogue files`);
      ids.add(e.id);
      all.push(e);
    }
  }
  return all;
}

/** the synchronous form, for component construction at start (config load time, never per event) */
export function loadCatalogFilesSync(files: readonly string[]): CatalogEntry[] {
  const all: CatalogEntry[] = [];
  const ids = new Set<string>();
  for (const f of files) {
    let text: string;
    try {
      if (statSync(f).size > MAX_CATALOG_BYTES)
        throw mwError('CATALOG_INVALID', `${f}: larger than ${MAX_CATALOG_BYTES} bytes`);
      text = readFileSync(f, 'utf8');
    } catch (err) {
      if (err instanceof MeshwardError) throw err;
      throw mwError(
        'CATALOG_INVALID',
        `${f}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
        { where: f },
        err,
      );
    }
    for (const e of parseCatalogText(text, f)) {
      if (ids.has(e.id)) throw mwError('CATALOG_INVALID', `${f}: id: duplicate id ${e.id} across catalogue files`);
      ids.add(e.id);
      all.push(e);
    }
  }
  return all;
}

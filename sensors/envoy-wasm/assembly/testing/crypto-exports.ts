// Test-only module: exposes the sensor's SHA-256 and HMAC so tests can compare them with node:crypto.
import '../abort';
import { HmacSha256, Sha256 } from '../sha256';

export function malloc(size: usize): usize {
  return heap.alloc(size);
}

export function sha256(ptr: usize, len: i32, out: usize): void {
  const h = new Sha256();
  h.update(ptr, len);
  h.finish(out);
}

/** feeds the input in chunks of `chunk` bytes, to exercise the block buffering */
export function sha256_chunked(ptr: usize, len: i32, chunk: i32, out: usize): void {
  const h = new Sha256();
  for (let i = 0; i < len; i += chunk) h.update(ptr + <usize>i, min(chunk, len - i));
  h.finish(out);
}

export function hmac_sha256(keyPtr: usize, keyLen: i32, dataPtr: usize, dataLen: i32, out: usize): void {
  const key = new Uint8Array(keyLen);
  memory.copy(key.dataStart, keyPtr, <usize>keyLen);
  new HmacSha256(key).mac(dataPtr, dataLen, out);
}

import type { ApiCallRecord } from '../pipeline/core/record.js';

/** a 32-hex-digit id from a number (token hashes, trace ids of the synthetic records) */
export const hex = (n: number): string => n.toString(16).padStart(32, '0');

/**
 * The caller of synthetic record `n`: in a mesh a workload (one of 5,000, with its SPIFFE principal, mTLS on all but
 * every 100th call) at a 10.0.x.y address, otherwise a bare client address.
 */
export function syntheticSource(n: number, mesh: boolean, i = n): ApiCallRecord['source'] {
  return mesh
    ? {
        ip: `10.0.${(n >> 8) & 255}.${n & 255}`,
        service: `caller${n % 5000}`,
        principal: `spiffe://cluster.local/ns/x/sa/caller${n % 5000}`,
        mtls: i % 100 !== 0,
      }
    : { ip: `${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}.9` };
}

import type { IngestOrigin, RecordIngest } from '../../pipeline/collector/ingest.js';
import { ERRORS, MeshwardError } from '../../pipeline/core/errors.js';
import type { Transport } from './batching-shipper.js';

/** Deliver shipper batches to an in-process RecordIngest (receivers, the embedded bus sensor). */
export function ingestTransport(ingest: RecordIngest, origin: IngestOrigin): Transport {
  return async (batch) => {
    try {
      const r = await ingest.ingest(batch, origin);
      return { kind: 'ok', accepted: r.accepted, rejected: r.rejected.length };
    } catch (err) {
      if (err instanceof MeshwardError) {
        if (err.code === ERRORS.BUS_SATURATED.code) return { kind: 'retry', reason: 'saturated' };
        if (err.code === ERRORS.BUS_UNAVAILABLE.code) return { kind: 'retry', reason: 'bus_unavailable' };
      }
      return { kind: 'drop', reason: 'ingest_failed' };
    }
  };
}

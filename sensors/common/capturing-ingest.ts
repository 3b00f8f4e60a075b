import { TypeCompiler } from '@sinclair/typebox/compiler';
import {
  type IngestOrigin,
  type IngestResult,
  type RecordIngest,
  UnmappedItem,
} from '../../pipeline/collector/ingest.js';
import { type ApiCallRecord, ApiCallRecordSchema } from '../../pipeline/core/record.js';

const check = TypeCompiler.Compile(ApiCallRecordSchema);

/**
 * A RecordIngest for tests: validates every item against ApiCallRecordSchema as the collector does, keeps the valid
 * ones (with their origin) and rejects the rest with the catalogue code, like the real ingest (an UnmappedItem with
 * its own code and reason; only items that fail the schema are kept in `invalid`). Unlike the collector it does not
 * cut what is past a bound (pipeline/core/record-bounds.ts): the shipped sensors cap every such field themselves, and
 * a sensor that stopped doing so shows here as an invalid record.
 */
export class CapturingIngest implements RecordIngest {
  readonly records: ApiCallRecord[] = [];
  readonly invalid: { item: unknown; errors: string[] }[] = [];
  readonly origins: IngestOrigin[] = [];
  /** make the next calls fail, e.g. with mwError('BUS_UNAVAILABLE') */
  failWith: Error | undefined;

  async ingest(items: unknown[], origin: IngestOrigin): Promise<IngestResult> {
    if (this.failWith) throw this.failWith;
    const result: IngestResult = { accepted: 0, ids: [], rejected: [] };
    items.forEach((item, index) => {
      if (item instanceof UnmappedItem) {
        result.rejected.push({ index, code: item.code, reason: item.reason });
      } else if (check.Check(item)) {
        this.records.push(item);
        this.origins.push(origin);
        result.accepted++;
        result.ids.push(item.id);
      } else {
        const errors = [...check.Errors(item)].map((e) => `${e.path}: ${e.message}`);
        this.invalid.push({ item, errors });
        result.rejected.push({ index, code: 'MW_ERR_RECORD_INVALID', reason: errors.join('; ') });
      }
    });
    return result;
  }

  async waitFor(n: number, ms = 10_000): Promise<ApiCallRecord[]> {
    const end = Date.now() + ms;
    while (this.records.length < n) {
      if (Date.now() > end) {
        throw new Error(`expected ${n} records, got ${this.records.length} (invalid: ${JSON.stringify(this.invalid)})`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.records;
  }
}

/** What every receiver (HTTP, syslog, Kong http-log, IdP callback) hands records to. */
export interface IngestOrigin {
  /** receiver type, e.g. http, syslog, kong, idp */
  receiver: string;
  /**
   * the receiver's key in the `receivers:` section (`syslog/edge`; the bare type, `syslog`, when unnamed; `http` for
   * the collector's own /v1/records): two receivers of one type are told apart by it (the metrics' `receiver_key`)
   */
  key: string;
  /** authenticated sensor id (from its token) or the receiver's configured sensor id */
  sensorId: string;
}

export interface IngestRejection {
  /** position of the item in the submitted list */
  index: number;
  /** stable error code from the catalogue, e.g. MW_ERR_RECORD_INVALID */
  code: string;
  reason: string;
}

export interface IngestResult {
  accepted: number;
  /** the ids of accepted records, in order */
  ids: string[];
  rejected: IngestRejection[];
}

/**
 * An item a receiver could not make a record of (a Kong entry without a URI, an IdP event of an unknown type), handed
 * to `ingest` in the record's place: it is rejected with this code and reason, and dead-lettered as it came.
 */
export class UnmappedItem {
  constructor(
    readonly item: unknown,
    readonly code: string,
    readonly reason: string,
  ) {}
}

export interface RecordIngest {
  /**
   * Validate, redact and publish. Items may be parsed objects, raw strings/Buffers (one JSON record each) or
   * UnmappedItems. Invalid items go to the dead-letter topic with the reason and original bytes, and are counted;
   * never dropped.
   * Rejects with MeshwardError BUS_SATURATED / BUS_UNAVAILABLE when nothing could be published.
   */
  ingest(items: unknown[], origin: IngestOrigin): Promise<IngestResult>;
}

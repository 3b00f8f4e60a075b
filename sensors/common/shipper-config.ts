import { type Static, Type } from '@sinclair/typebox';

/** How a sensor ships records to the collector's `POST /v1/records`. */
export const ShipperConfigSchema = Type.Object(
  {
    /** collector base URL, e.g. http://collector:7071 (records go to <url>/v1/records) */
    collector_url: Type.String({ minLength: 1, default: 'http://127.0.0.1:7071', description: 'collector base URL' }),
    /** the sensor's bearer token for the collector (never logged) */
    token: Type.String({ default: '', description: 'sensor token sent as Authorization: Bearer' }),
    /** records held in memory at most; beyond this new records are dropped and counted */
    max_buffer: Type.Integer({ minimum: 1, maximum: 10_000_000, default: 10_000, description: 'max buffered records' }),
    /** records per POST */
    batch_size: Type.Integer({ minimum: 1, maximum: 10_000, default: 500, description: 'records per request' }),
    /** a partial batch is sent after this long */
    flush_interval_ms: Type.Integer({ minimum: 1, maximum: 60_000, default: 1_000, description: 'flush interval' }),
    /** concurrent POSTs at most */
    max_in_flight: Type.Integer({ minimum: 1, maximum: 64, default: 2, description: 'max concurrent requests' }),
    /** a POST not answered within this is abandoned (its records dropped and counted) */
    timeout_ms: Type.Integer({ minimum: 1, maximum: 120_000, default: 5_000, description: 'request timeout' }),
    /** first wait after a failure or 429/503; doubles up to max_backoff_ms, with jitter */
    backoff_ms: Type.Integer({ minimum: 1, maximum: 60_000, default: 500, description: 'initial backoff' }),
    max_backoff_ms: Type.Integer({ minimum: 1, maximum: 600_000, default: 30_000, description: 'max backoff' }),
  },
  { additionalProperties: false, default: {} },
);
export type ShipperConfig = Static<typeof ShipperConfigSchema>;

export const defaultShipperConfig: ShipperConfig = {
  collector_url: 'http://127.0.0.1:7071',
  token: '',
  max_buffer: 10_000,
  batch_size: 500,
  flush_interval_ms: 1_000,
  max_in_flight: 2,
  timeout_ms: 5_000,
  backoff_ms: 500,
  max_backoff_ms: 30_000,
};

import { type Static, Type } from '@sinclair/typebox';
import { mwError } from '../../core/errors.js';

export const SyslogFormat = Type.Union([
  Type.Literal('nginx_json'),
  Type.Literal('haproxy_json'),
  Type.Literal('auto'),
]);
export type SyslogFormat = Static<typeof SyslogFormat>;

/** `host:port`, `:port`, `[::1]:port`, or empty (no listener): checked with the config, naming the key */
const LISTEN = '^(|\\[?[^\\]]*\\]?:\\d{1,5})$';

export const SyslogReceiverConfigSchema = Type.Object(
  {
    /** UDP listen address host:port (nginx `access_log syslog:`, HAProxy `log`); empty = no UDP listener */
    listen_udp: Type.String({ default: '', pattern: LISTEN }),
    /** TCP listen address host:port (RFC 6587 octet-counted or newline framing); empty = no TCP listener */
    listen_tcp: Type.String({ default: '', pattern: LISTEN }),
    /** message format: the JSON access logs of deploy/nginx-logs or deploy/haproxy-logs, or auto-detect per message */
    format: Type.Union([Type.Literal('nginx_json'), Type.Literal('haproxy_json'), Type.Literal('auto')], {
      default: 'auto',
    }),
    /** where the record's service comes from: the request host (port stripped), a fixed name, or the HAProxy backend */
    service_from: Type.Union([Type.Literal('host'), Type.Literal('fixed'), Type.Literal('backend')], {
      default: 'host',
    }),
    /** the service for service_from=fixed, and the fallback when host/backend is empty */
    service_name: Type.String({ minLength: 1, maxLength: 256, default: 'unknown' }),
    /**
     * sensor id carried in records, in the ingest origin and in the `receiver` label of the metrics; in the
     * `receivers:` section a receiver named after a slash (`syslog/edge`) takes its key when not given
     */
    sensor_id: Type.String({ minLength: 1, maxLength: 256, default: 'syslog' }),
    /** largest syslog message (UDP datagram or TCP frame) accepted, in bytes; larger ones are rejected and counted */
    max_message_bytes: Type.Integer({ minimum: 256, maximum: 1_048_576, default: 65_536 }),
    /** concurrent TCP connections at most; more are refused and counted */
    max_connections: Type.Integer({ minimum: 1, maximum: 65_536, default: 256 }),
    /** a TCP connection silent for this long is closed */
    idle_timeout_ms: Type.Integer({ minimum: 1_000, maximum: 3_600_000, default: 300_000 }),
    /**
     * invalid UTF-8 in a message: `replace` keeps the record with U+FFFD in place of bad bytes (an attacker cannot
     * hide a request by putting raw bytes in its URL), `reject` drops the message; both count it
     */
    invalid_utf8: Type.Union([Type.Literal('replace'), Type.Literal('reject')], { default: 'replace' }),
    /** records buffered for the ingest at most (drops beyond are counted) */
    max_buffer: Type.Integer({ minimum: 1, maximum: 10_000_000, default: 20_000 }),
    /** records per ingest call */
    batch_size: Type.Integer({ minimum: 1, maximum: 10_000, default: 500 }),
    /** a partial batch is handed to the ingest after this long */
    flush_interval_ms: Type.Integer({ minimum: 1, maximum: 60_000, default: 200 }),
  },
  { additionalProperties: false },
);
export type SyslogReceiverConfig = Static<typeof SyslogReceiverConfigSchema>;

export const defaultSyslogReceiverConfig: SyslogReceiverConfig = {
  listen_udp: '',
  listen_tcp: '',
  format: 'auto',
  service_from: 'host',
  service_name: 'unknown',
  sensor_id: 'syslog',
  max_message_bytes: 65_536,
  max_connections: 256,
  idle_timeout_ms: 300_000,
  invalid_utf8: 'replace',
  max_buffer: 20_000,
  batch_size: 500,
  flush_interval_ms: 200,
};

/** `host:port` → parts; `[::1]:514` for IPv6 */
export function parseListen(addr: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(addr.trim());
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || port > 65_535) throw mwError('CONFIG_INVALID', `listen address "${addr}" is not host:port`);
  return { host: m[1] || '0.0.0.0', port };
}

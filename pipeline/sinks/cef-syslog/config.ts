import { type Static, Type } from '@sinclair/typebox';

export const CefSyslogSinkConfig = Type.Object(
  {
    /** syslog receiver host */
    host: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 1, maximum: 65_535, default: 514 }),
    /** udp, or tcp with octet-counted framing (RFC 6587) */
    protocol: Type.Union([Type.Literal('udp'), Type.Literal('tcp')], { default: 'udp' }),
    /** syslog facility number (default 10, security/authorization) */
    facility: Type.Integer({ minimum: 0, maximum: 23, default: 10 }),
    app_name: Type.String({ default: 'meshward', maxLength: 48 }),
    timeout_ms: Type.Integer({ minimum: 100, maximum: 60_000, default: 5_000 }),
  },
  { additionalProperties: false },
);
export type CefSyslogSinkConfig = Static<typeof CefSyslogSinkConfig>;

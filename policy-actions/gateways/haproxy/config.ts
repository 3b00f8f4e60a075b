import { type Static, Type } from '@sinclair/typebox';

/** Settings of the HAProxy deny adapter (`gateways/haproxy`). */
export const HaproxyConfigSchema = Type.Object(
  {
    /** Runtime API of HAProxy: a unix socket path or `host:port` of a `stats socket ... level admin` */
    socket: Type.String({
      minLength: 1,
      default: '/run/haproxy/admin.sock',
      description: 'Runtime API: unix socket path or host:port of a `stats socket ... level admin`',
    }),
    /** folder of deny-ip.map, deny-key.map and deny-route.map, spelled exactly as in the HAProxy config */
    map_dir: Type.String({
      minLength: 1,
      default: '/etc/haproxy/meshward',
      description: 'folder of deny-ip.map, deny-key.map, deny-route.map, spelled exactly as in the HAProxy config',
    }),
    /** where the adapter keeps its index of decisions (ids and expiry); default `<map_dir>/meshward-deny.json` */
    state_file: Type.Optional(
      Type.String({ minLength: 1, description: 'index of decisions and expiry; default <map_dir>/meshward-deny.json' }),
    ),
    /** time allowed for one Runtime API command */
    timeout_ms: Type.Integer({ minimum: 50, maximum: 60_000, default: 2000, description: 'per Runtime API command' }),
    /** retries of a failed Runtime API call, with jittered exponential backoff */
    retries: Type.Integer({ minimum: 0, maximum: 10, default: 2, description: 'retries of a failed Runtime API call' }),
    /** first backoff step in ms */
    retry_base_ms: Type.Integer({ minimum: 1, maximum: 10_000, default: 100, description: 'first backoff step (ms)' }),
  },
  { additionalProperties: false },
);

export type HaproxyConfig = Static<typeof HaproxyConfigSchema>;

export const defaultHaproxyConfig: HaproxyConfig = {
  socket: '/run/haproxy/admin.sock',
  map_dir: '/etc/haproxy/meshward',
  timeout_ms: 2000,
  retries: 2,
  retry_base_ms: 100,
};

import { type Static, Type } from '@sinclair/typebox';

/** Settings of the nginx deny adapter (`gateways/nginx`). */
export const NginxConfigSchema = Type.Object(
  {
    /** the nginx binary */
    nginx_bin: Type.String({ minLength: 1, default: 'nginx', description: 'the nginx binary' }),
    /** the main config file nginx runs with (`-c`); used for `nginx -t` and `nginx -s reload` */
    conf_file: Type.String({ minLength: 1, default: '/etc/nginx/nginx.conf', description: 'main config file (-c)' }),
    /** nginx prefix (`-p`), when nginx runs with one */
    prefix: Type.Optional(Type.String({ minLength: 1, description: 'nginx prefix (-p), when nginx runs with one' })),
    /** folder of the deny map files included by deploy/nginx/meshward-deny.conf */
    map_dir: Type.String({
      minLength: 1,
      default: '/etc/nginx/meshward',
      description: 'folder of deny-ip.map, deny-token.map, deny-user.map, deny-principal.map, deny-route.map',
    }),
    /** index of decisions and expiry; default `<map_dir>/meshward-deny.json` */
    state_file: Type.Optional(Type.String({ minLength: 1, description: 'default <map_dir>/meshward-deny.json' })),
    /** decisions arriving within this window share one `nginx -t` + reload */
    debounce_ms: Type.Integer({ minimum: 0, maximum: 10_000, default: 100, description: 'batch window for reloads' }),
    /** time allowed for `nginx -t` and `nginx -s reload` */
    command_timeout_ms: Type.Integer({ minimum: 100, maximum: 120_000, default: 15_000 }),
  },
  { additionalProperties: false },
);

export type NginxConfig = Static<typeof NginxConfigSchema>;

export const defaultNginxConfig: NginxConfig = {
  nginx_bin: 'nginx',
  conf_file: '/etc/nginx/nginx.conf',
  map_dir: '/etc/nginx/meshward',
  debounce_ms: 100,
  command_timeout_ms: 15_000,
};

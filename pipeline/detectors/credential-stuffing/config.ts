import { type Static, Type } from '@sinclair/typebox';

export const CredentialStuffingConfigSchema = Type.Object(
  {
    /** counting window (event time); counts restart when a subject's window is older than this */
    window_ms: Type.Integer({ minimum: 1000, default: 600_000, description: 'counting window, ms' }),
    /** route templates of login endpoints: 401/403 there is an authentication failure */
    login_routes: Type.Array(Type.String(), {
      default: [
        '/login',
        '/api/login',
        '/oauth/token',
        '/oauth2/token',
        '/token',
        '/signin',
        '/api/signin',
        '/session',
        '/api/session',
      ],
      description: 'route templates of login endpoints',
    }),
    /** distinct users failing from one address in a window that make credential stuffing */
    stuffing_distinct_users: Type.Integer({
      minimum: 2,
      default: 15,
      description: 'distinct failed users per IP per window',
    }),
    /** failures against one user in a window that make brute force */
    brute_force_failures: Type.Integer({ minimum: 2, default: 12, description: 'failures per user per window' }),
    /** also count hops between services (off: only the edge and IdP callbacks, so one login is counted once) */
    include_mesh_hops: Type.Boolean({ default: false, description: 'count service-to-service hops too' }),
    max_ips: Type.Integer({ minimum: 1, default: 100_000, description: 'cap on tracked source addresses' }),
    max_users: Type.Integer({ minimum: 1, default: 100_000, description: 'cap on tracked target users' }),
  },
  { additionalProperties: false },
);
export type CredentialStuffingConfig = Static<typeof CredentialStuffingConfigSchema>;

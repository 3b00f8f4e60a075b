import { type Static, Type } from '@sinclair/typebox';

export const TokenMismatchConfigSchema = Type.Object(
  {
    /** counting window (event time) for addresses and user ids seen with one token */
    window_ms: Type.Integer({ minimum: 1000, default: 600_000, description: 'counting window, ms' }),
    /** distinct client addresses one token may come from in a window (mobile clients switch networks) */
    max_ips_per_token: Type.Integer({
      minimum: 1,
      default: 4,
      description: 'alert above this many addresses per token',
    }),
    /** distinct user ids one token may be presented with in a window */
    max_subs_per_token: Type.Integer({
      minimum: 1,
      default: 1,
      description: 'alert above this many user ids per token',
    }),
    /** route templates whose first placeholder names the owner: it must equal the token's user.sub */
    owner_routes: Type.Array(Type.String(), {
      default: ['/users/{id}'],
      description: 'routes addressed by the caller’s own id',
    }),
    /** count addresses and user ids only at the edge (mesh hops carry pod addresses, not the client's) */
    edge_only: Type.Boolean({ default: true, description: 'count sharing only on edge records' }),
    max_tokens: Type.Integer({ minimum: 1, default: 200_000, description: 'cap on tracked tokens' }),
  },
  { additionalProperties: false },
);
export type TokenMismatchConfig = Static<typeof TokenMismatchConfigSchema>;

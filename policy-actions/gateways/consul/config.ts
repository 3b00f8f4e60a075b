import { type Static, Type } from '@sinclair/typebox';

/** Settings of the Consul deny adapter (`gateways/consul`): service intentions through the config entry API. */
export const ConsulConfigSchema = Type.Object(
  {
    /** Consul HTTP API */
    address: Type.String({ minLength: 1, default: 'http://127.0.0.1:8500', description: 'Consul HTTP API' }),
    /** file holding an ACL token with intentions:write on the destinations (sent as X-Consul-Token) */
    token_file: Type.Optional(Type.String({ minLength: 1, description: 'ACL token file' })),
    /** CA bundle when the address is https */
    ca_file: Type.Optional(Type.String({ minLength: 1 })),
    /** destination service when a decision names none (decision.service wins) */
    default_destination: Type.Optional(
      Type.String({ minLength: 1, description: 'destination when a decision has none' }),
    ),
    /** compare-and-set attempts when another writer changes the intentions at the same time */
    cas_attempts: Type.Integer({ minimum: 1, maximum: 10, default: 3 }),
    timeout_ms: Type.Integer({ minimum: 50, maximum: 60_000, default: 5000 }),
    retries: Type.Integer({ minimum: 0, maximum: 10, default: 2 }),
    retry_base_ms: Type.Integer({ minimum: 1, maximum: 10_000, default: 200 }),
  },
  { additionalProperties: false },
);

export type ConsulConfig = Static<typeof ConsulConfigSchema>;

export const defaultConsulConfig: ConsulConfig = {
  address: 'http://127.0.0.1:8500',
  cas_attempts: 3,
  timeout_ms: 5000,
  retries: 2,
  retry_base_ms: 200,
};

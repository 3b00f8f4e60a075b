import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { type Static, Type } from '@sinclair/typebox';
import type { SASLOptions } from 'kafkajs';
import { readSecretFile } from '../config/secret-file.js';
import { mwError } from '../core/errors.js';

/**
 * How a Kafka client of meshward reaches a secured cluster (TLS, SASL): the options of the pipeline's own bus
 * (`bus.kafka`) and of the bus sensor (`receivers.bus/<name>`), spread into their schemas' properties so both read
 * the same keys with the same meaning.
 */
export const kafkaSecurityProperties = {
  /** connect with TLS */
  ssl: Type.Boolean({ default: false, description: 'connect with TLS' }),
  /** PEM file of the CA that signed the brokers' certificates (with ssl) */
  ssl_ca_file: Type.Optional(Type.String({ minLength: 1, description: 'PEM CA file for the brokers (with ssl)' })),
  /** SASL authentication; the password is read from a file so it never sits in the config */
  sasl: Type.Optional(
    Type.Object(
      {
        mechanism: Type.Union([Type.Literal('plain'), Type.Literal('scram-sha-256'), Type.Literal('scram-sha-512')], {
          description: 'SASL mechanism',
        }),
        username: Type.String({ minLength: 1, description: 'SASL user name' }),
        password_file: Type.String({ minLength: 1, description: 'file holding the SASL password' }),
      },
      { additionalProperties: false },
    ),
  ),
};

const KafkaSecuritySchema = Type.Object(kafkaSecurityProperties);
export type KafkaSecurityConfig = Static<typeof KafkaSecuritySchema>;

/** the kafkajs client options a KafkaSecurityConfig gives */
export interface KafkaSecurityOptions {
  ssl: ConnectionOptions | boolean | undefined;
  sasl: SASLOptions | undefined;
}

/**
 * The kafkajs `ssl` and `sasl` options of a validated config: the CA bundle's content (with ssl) and the SASL
 * password read from its file (readSecretFile: trimmed; missing, empty or too large is MW_ERR_CONFIG_INVALID). A CA
 * bundle without `ssl: true` is refused too: it would be ignored, and the connection made in plaintext.
 * `where` is the config path of the section (`bus.kafka`, `receivers.bus/orders`), which the errors name with the
 * option (`receivers.bus/orders.sasl.password_file: …`), never the password.
 */
export function kafkaSecurityOptions(
  config: KafkaSecurityConfig,
  where: string,
  readSecret: (path: string) => string = (p) => readSecretFile(p, `${where}.sasl.password_file`),
): KafkaSecurityOptions {
  if (config.ssl_ca_file && !config.ssl)
    throw mwError(
      'CONFIG_INVALID',
      `${where}.ssl_ca_file: a CA bundle is used only over TLS; set ${where}.ssl: true (or drop the file)`,
    );
  const ssl = config.ssl ? (config.ssl_ca_file ? { ca: [readCa(config.ssl_ca_file, where)] } : true) : undefined;
  const sasl = config.sasl
    ? {
        mechanism: config.sasl.mechanism,
        username: config.sasl.username,
        password: readSecret(config.sasl.password_file),
      }
    : undefined;
  return { ssl, sasl };
}

function readCa(path: string, where: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw mwError(
      'CONFIG_INVALID',
      `${where}.ssl_ca_file: cannot read ${path}: ${(err as Error).message}`,
      undefined,
      err,
    );
  }
}

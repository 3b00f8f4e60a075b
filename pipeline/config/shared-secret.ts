import { type StringOptions, type TString, Type } from '@sinclair/typebox';
import { mwError } from '../core/errors.js';

/**
 * The fewest characters of a secret meshward's parts share with each other: a token hash key (HMAC), a sensor token,
 * an API key, the IdP webhook's token, a webhook sink's signing secret. Credentials another system issues (an IdP
 * client secret, a Kafka password, a gateway's admin token) are that system's to size.
 */
export const MIN_SECRET_LENGTH = 16;

/** the one wording of a shared secret that is too short, given inline or in a file */
export const SECRET_TOO_SHORT = `must be at least ${MIN_SECRET_LENGTH} characters (a shared secret or key)`;

/**
 * The schema of a shared secret given inline: at least MIN_SECRET_LENGTH characters. `writeOnly` (JSON Schema's mark
 * of a value that is given, never shown back) is how schemaProblems knows to word a short one as SECRET_TOO_SHORT.
 */
export const SharedSecret = (options: StringOptions = {}): TString =>
  Type.String({ ...options, minLength: MIN_SECRET_LENGTH, writeOnly: true });

/** whether a schema is a SharedSecret's */
export const isSharedSecret = (schema: unknown): boolean =>
  (schema as { writeOnly?: unknown } | undefined)?.writeOnly === true &&
  (schema as { minLength?: unknown }).minLength === MIN_SECRET_LENGTH;

/**
 * A shared secret read from a file, checked as an inline one is: MW_ERR_CONFIG_INVALID when shorter, naming the option
 * and the file, never the value
 */
export function checkSharedSecret(secret: string, option: string, path: string): string {
  if (secret.length < MIN_SECRET_LENGTH)
    throw mwError('CONFIG_INVALID', `${option}: the value in ${path} ${SECRET_TOO_SHORT}`);
  return secret;
}

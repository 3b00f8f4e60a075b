import { Type } from '@sinclair/typebox';
import { createRedactor, DEFAULT_REDACT_NAMES, type Redactor } from './redact.js';

/** the redaction options of a sensor or receiver that copies parameters or headers into records */
export const REDACT_FIELDS = {
  /** names always redacted (case-insensitive) */
  redact_names: Type.Array(Type.String(), { default: DEFAULT_REDACT_NAMES }),
  /** redact values that look like credentials (JWTs, bearer values, long hex/base64 keys) */
  detect_secrets: Type.Boolean({ default: true }),
};

/** their defaults, for a config's default object */
export const redactDefaults = (): { redact_names: string[]; detect_secrets: boolean } => ({
  redact_names: [...DEFAULT_REDACT_NAMES],
  detect_secrets: true,
});

/** the redactor a config's options describe */
export const redactorOf = (config: { redact_names: string[]; detect_secrets: boolean }): Redactor =>
  createRedactor({ names: config.redact_names, detectSecrets: config.detect_secrets });

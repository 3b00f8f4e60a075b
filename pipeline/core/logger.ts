import { pino, type Logger } from 'pino';

/** Paths that may carry secrets; pino censors them wherever they appear in a log object. */
export const REDACT_PATHS = [
  'authorization',
  'token',
  'password',
  'secret',
  'clientSecret',
  'client_secret',
  'apiKey',
  'api_key',
  '*.authorization',
  '*.token',
  '*.password',
  '*.secret',
  '*.clientSecret',
  '*.client_secret',
  '*.apiKey',
  '*.api_key',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers.cookie',
];

export type { Logger };

export function createLogger(
  opts: { level?: string; name?: string; destination?: NodeJS.WritableStream } = {},
): Logger {
  const level = opts.level ?? process.env.MESHWARD_LOG_LEVEL ?? 'info';
  const options = { level, name: opts.name ?? 'meshward', redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return opts.destination ? pino(options, opts.destination as never) : pino(options);
}

/** a logger that writes nothing (tests, library use) */
export const silentLogger: Logger = pino({ level: 'silent' });

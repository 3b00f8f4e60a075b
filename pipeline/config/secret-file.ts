import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { MeshwardError, mwError } from '../core/errors.js';

/** the most a secret file may hold: a key, a token, a password, a private key */
export const MAX_SECRET_FILE_BYTES = 64 * 1024;
/** the most a list of credentials may hold (the sensor tokens and API keys files: about 15,000 lines) */
export const MAX_SECRET_LIST_BYTES = 1024 * 1024;

/**
 * The secret a `*_file` option names (a key, a token, a password, a private key, or the lines of the sensor tokens
 * and API keys files), read whole, at most `maxBytes` (MAX_SECRET_FILE_BYTES; MAX_SECRET_LIST_BYTES for a list): the whitespace around it is trimmed (the newline an
 * editor or `echo` leaves), and an empty file, a larger one or one that cannot be read is MW_ERR_CONFIG_INVALID
 * prefixed by `option` (`receivers.idp.webhook_token_file`), naming the file, never what it holds.
 */
export function readSecretFile(path: string, option: string, maxBytes = MAX_SECRET_FILE_BYTES): string {
  const buf = Buffer.alloc(maxBytes + 1);
  let length = 0;
  try {
    const fd = openSync(path, 'r');
    try {
      while (length < buf.length) {
        const n = readSync(fd, buf, length, buf.length - length, null);
        if (n === 0) break;
        length += n;
      }
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw unreadable(path, option, err);
  }
  return secretOf(buf, length, maxBytes, path, option);
}

/** readSecretFile, off the event loop (a credential read again at each call, as mounted secrets rotate) */
export async function readSecretFileAsync(
  path: string,
  option: string,
  maxBytes = MAX_SECRET_FILE_BYTES,
): Promise<string> {
  const buf = Buffer.alloc(maxBytes + 1);
  let length = 0;
  try {
    const file = await open(path, 'r');
    try {
      while (length < buf.length) {
        const { bytesRead } = await file.read(buf, length, buf.length - length, null);
        if (bytesRead === 0) break;
        length += bytesRead;
      }
    } finally {
      await file.close();
    }
  } catch (err) {
    throw unreadable(path, option, err);
  }
  return secretOf(buf, length, maxBytes, path, option);
}

const unreadable = (path: string, option: string, err: unknown): MeshwardError =>
  err instanceof MeshwardError
    ? err
    : mwError('CONFIG_INVALID', `${option}: cannot read ${path}: ${(err as Error).message}`, undefined, err);

function secretOf(buf: Buffer, length: number, maxBytes: number, path: string, option: string): string {
  if (length > maxBytes) {
    throw mwError(
      'CONFIG_INVALID',
      `${option}: ${path} is larger than ${maxBytes / 1024} KiB: a secret file holds the secret alone`,
    );
  }
  const secret = buf.toString('utf8', 0, length).trim();
  if (!secret) throw mwError('CONFIG_INVALID', `${option}: ${path} is empty`);
  return secret;
}

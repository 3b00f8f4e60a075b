import { createHash, timingSafeEqual } from 'node:crypto';
import { MAX_SECRET_LIST_BYTES, readSecretFile } from '../config/secret-file.js';
import { MIN_SECRET_LENGTH, SECRET_TOO_SHORT } from '../config/shared-secret.js';
import { mwError } from '../core/errors.js';

export interface SensorToken {
  /** sensor id the token authenticates */
  id: string;
  token: string;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Sensor bearer tokens: each authenticates one sensor id and is scoped to ingest only (the analyst API does not
 * accept them). Tokens are held as SHA-256 digests and compared in constant time.
 */
export class SensorAuth {
  private readonly byDigest = new Map<string, { id: string; digest: Buffer }>();

  constructor(tokens: SensorToken[]) {
    for (const t of tokens) {
      const d = digest(t.token);
      this.byDigest.set(d.toString('hex'), { id: t.id, digest: d });
    }
  }

  get size(): number {
    return this.byDigest.size;
  }

  /** the sensor id for an `Authorization` header value, or a MeshwardError UNAUTHENTICATED */
  authenticate(header: string | undefined): string {
    const m = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!m) throw mwError('UNAUTHENTICATED', 'expected Authorization: Bearer <sensor token>');
    const d = digest(m[1]);
    const hit = this.byDigest.get(d.toString('hex'));
    if (!hit || !timingSafeEqual(hit.digest, d)) throw mwError('UNAUTHENTICATED', 'unknown sensor token');
    return hit.id;
  }
}

/** reads `sensor-id token` lines (blank lines and # comments ignored), as every secret file is read (readSecretFile) */
export function readSensorTokensFile(path: string): SensorToken[] {
  const out: SensorToken[] = [];
  readSecretFile(path, 'collector.sensor_tokens_file', MAX_SECRET_LIST_BYTES)
    .split('\n')
    .forEach((line, i) => {
      const t = line.trim();
      if (!t || t.startsWith('#')) return;
      const [id, token, extra] = t.split(/\s+/);
      if (!id || !token || extra !== undefined) {
        throw mwError('CONFIG_INVALID', `${path}:${i + 1}: expected "<sensor-id> <token of 16+ characters>"`);
      }
      if (token.length < MIN_SECRET_LENGTH)
        throw mwError('CONFIG_INVALID', `${path}:${i + 1}: the token ${SECRET_TOO_SHORT}`);
      out.push({ id, token });
    });
  return out;
}

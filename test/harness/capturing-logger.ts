import { Writable } from 'node:stream';
import { createLogger } from '../../pipeline/core/logger.js';

/** a pino logger whose lines are kept, parsed */
export function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'info', destination }) };
}

import { connect, type Socket } from 'node:net';
import { mwError } from '../../../pipeline/core/errors.js';

/**
 * A client of the HAProxy Runtime API (the `stats socket ... level admin`) in its non-interactive mode: one
 * connection per command line, the answer is everything HAProxy writes before it closes the connection.
 * `target` is a unix socket path (`/run/haproxy/admin.sock`) or `host:port` / `tcp://host:port` (`ipv4@` bind).
 */
export interface RuntimeApiOptions {
  target: string;
  timeoutMs: number;
}

function open(target: string): Socket {
  const tcp = target.startsWith('tcp://') ? target.slice(6) : !target.includes('/') ? target : undefined;
  if (tcp === undefined) return connect({ path: target });
  const colon = tcp.lastIndexOf(':');
  const host = tcp.slice(0, colon).replace(/^\[|\]$/g, '');
  return connect({ host, port: Number(tcp.slice(colon + 1)) });
}

/** send one command line (or a command with a `<<` payload, which must end with an empty line) and read the answer */
export function runtimeCommand(opts: RuntimeApiOptions, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = open(opts.target);
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(mwError('ADAPTER_FAILED', `haproxy runtime API: ${err.message}`, undefined, err));
      else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const timer = setTimeout(() => finish(new Error(`no answer within ${opts.timeoutMs} ms`)), opts.timeoutMs);
    sock.on('connect', () => sock.write(command.endsWith('\n') ? command : `${command}\n`));
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('error', (err) => finish(err));
    sock.on('close', () => finish(null));
  });
}

/** a mutating command (add/set/del/commit map) answers nothing on success and one line of text on failure */
export function isOk(answer: string): boolean {
  return answer.trim().length === 0;
}

/** the failure answer of set/del for a key that is not there ("entry not found." / "Key not found.") */
export function isNotFound(answer: string): boolean {
  return /not found/i.test(answer);
}

/** one map entry as listed by `show map <file>`: `0x55d0... key value` */
export interface ShownEntry {
  ref: string;
  key: string;
  value: string;
}

export function parseShowMap(answer: string): ShownEntry[] {
  const out: ShownEntry[] = [];
  for (const line of answer.split('\n')) {
    const m = /^(0x[0-9a-f]+) (\S+)(?: (.*))?$/.exec(line);
    if (m) out.push({ ref: m[1], key: m[2], value: m[3] ?? '' });
  }
  return out;
}

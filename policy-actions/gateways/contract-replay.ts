import { createServer, type IncomingMessage } from 'node:http';
import { isDeepStrictEqual } from 'node:util';

/**
 * A replay server for contract tests of control-plane adapters (Kubernetes/Istio, Consul, Kong): it answers a list of
 * request/response exchanges in order and records every way a request differs from the expected one.
 * Expected headers are a subset (lower-case names); an expected object body is compared as parsed JSON.
 */
export interface Exchange {
  /** what the exchange shows, for failure messages */
  note?: string;
  request: { method: string; path: string; headers?: Record<string, string>; body?: unknown };
  response: { status: number; headers?: Record<string, string>; body?: unknown };
}

export interface Replay {
  readonly url: string;
  /** every request received, in order: method, path, headers, parsed body */
  readonly received: { method: string; path: string; headers: IncomingMessage['headers']; body: unknown }[];
  readonly mismatches: string[];
  /** exchanges not requested yet */
  remaining(): number;
  /** throws when a request differed or an expected exchange was never requested */
  assertDone(): void;
  close(): Promise<void>;
}

export async function startReplay(exchanges: Exchange[]): Promise<Replay> {
  let next = 0;
  const mismatches: string[] = [];
  const received: Replay['received'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text.length > 0 ? text : undefined;
      try {
        if (text.length > 0) body = JSON.parse(text);
      } catch {
        // keep the text
      }
      const method = req.method ?? '';
      const path = req.url ?? '';
      received.push({ method, path, headers: req.headers, body });
      const ex = exchanges[next];
      if (!ex) {
        mismatches.push(`unexpected request #${next + 1}: ${method} ${path}`);
        res.writeHead(599).end('no exchange left');
        return;
      }
      next++;
      const tag = `exchange #${next}${ex.note ? ` (${ex.note})` : ''}`;
      const want = ex.request;
      if (method !== want.method || path !== want.path) {
        mismatches.push(`${tag}: expected ${want.method} ${want.path}, got ${method} ${path}`);
      }
      for (const [name, value] of Object.entries(want.headers ?? {})) {
        if (req.headers[name.toLowerCase()] !== value) {
          mismatches.push(`${tag}: header ${name} expected ${value}, got ${String(req.headers[name.toLowerCase()])}`);
        }
      }
      if (want.body !== undefined && !isDeepStrictEqual(body, want.body)) {
        mismatches.push(`${tag}: body expected ${JSON.stringify(want.body)}, got ${JSON.stringify(body)}`);
      }
      const out = ex.response.body === undefined ? '' : JSON.stringify(ex.response.body);
      res.writeHead(ex.response.status, { 'content-type': 'application/json', ...ex.response.headers }).end(out);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('replay: no address');
  return {
    url: `http://127.0.0.1:${addr.port}`,
    received,
    mismatches,
    remaining: () => exchanges.length - next,
    assertDone() {
      const left = exchanges.slice(next).map((e) => `${e.request.method} ${e.request.path}`);
      const problems = [...mismatches, ...(left.length ? [`never requested: ${left.join(', ')}`] : [])];
      if (problems.length > 0) throw new Error(`contract replay:\n  ${problems.join('\n  ')}`);
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

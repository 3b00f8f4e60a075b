import { readFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isDeepStrictEqual } from 'node:util';

/**
 * Contract-test server for adapters: replays recorded request/response pairs (JSON files in an adapter's testdata/)
 * in order, and checks that each request matches its recording exactly: method, path with query, the recorded
 * headers (only those; names lower-case), and the body (a string compared as is, an object compared as JSON).
 * `{{base}}` in a recorded response body is replaced with the server's own URL.
 */
export interface RecordedExchange {
  request: { method: string; path: string; headers?: Record<string, string>; body?: string | Record<string, unknown> };
  response: { status: number; headers?: Record<string, string>; body?: unknown };
}

export interface Recording {
  description: string;
  exchanges: RecordedExchange[];
}

export interface ReplayServer {
  url: string;
  /** what did not match, one line per problem */
  mismatches: string[];
  /** how many recorded exchanges were served */
  served(): number;
  /** true when every exchange was served and nothing mismatched */
  done(): boolean;
  stop(): Promise<void>;
}

export async function loadRecording(path: string): Promise<Recording> {
  return JSON.parse(await readFile(path, 'utf8')) as Recording;
}

export async function startReplayServer(recording: Recording): Promise<ReplayServer> {
  const mismatches: string[] = [];
  let next = 0;
  let base = '';
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const ex = recording.exchanges[next];
      const problems: string[] = [];
      if (!ex) problems.push(`unexpected request ${req.method} ${req.url}`);
      else {
        const want = ex.request;
        if (req.method !== want.method) problems.push(`method ${req.method} != ${want.method}`);
        if (req.url !== want.path) problems.push(`path ${req.url} != ${want.path}`);
        for (const [name, value] of Object.entries(want.headers ?? {})) {
          const got = req.headers[name.toLowerCase()];
          if (got !== value) problems.push(`header ${name}: ${JSON.stringify(got)} != ${JSON.stringify(value)}`);
        }
        if (want.body !== undefined) {
          if (typeof want.body === 'string') {
            if (body !== want.body) problems.push(`body ${JSON.stringify(body)} != ${JSON.stringify(want.body)}`);
          } else {
            let parsed: unknown;
            try {
              parsed = JSON.parse(body);
            } catch {
              parsed = body;
            }
            if (!isDeepStrictEqual(parsed, want.body)) problems.push(`body ${body} != ${JSON.stringify(want.body)}`);
          }
        } else if (body.length > 0) problems.push(`unexpected body ${JSON.stringify(body)}`);
      }
      if (problems.length || !ex) {
        mismatches.push(`#${next} ${problems.join('; ')}`);
        res.writeHead(418, { 'content-type': 'text/plain' }).end(problems.join('\n'));
        return;
      }
      next++;
      const payload =
        ex.response.body === undefined
          ? ''
          : typeof ex.response.body === 'string'
            ? ex.response.body
            : JSON.stringify(ex.response.body).replaceAll('{{base}}', base);
      res.writeHead(ex.response.status, ex.response.headers ?? {}).end(payload);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    mismatches,
    served: () => next,
    done: () => next === recording.exchanges.length && mismatches.length === 0,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

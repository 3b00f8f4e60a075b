import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

/**
 * The console's API client is browser code (plain ES modules), but its stream handling needs nothing Node 20 lacks
 * except sessionStorage and window, which are stubbed here.
 */
interface ClientModule {
  readEvents(body: ReadableStream<Uint8Array>, onEvent: (event: string, data: string) => void): Promise<void>;
  followStream(
    path: string,
    o: {
      signal: AbortSignal;
      onEvent: (e: string, d: string) => void;
      onOpen?: () => void;
      onState?: (s: string) => void;
    },
  ): Promise<void>;
  authHeaders(cred: string): Record<string, string>;
  query(params: Record<string, string | number | undefined | null>): string;
}

let client: ClientModule;
const storage = new Map<string, string>();
const dispatched: string[] = [];

beforeAll(async () => {
  Object.assign(globalThis, {
    sessionStorage: {
      getItem: (k: string) => storage.get(k) ?? null,
      setItem: (k: string, v: string) => storage.set(k, v),
      removeItem: (k: string) => storage.delete(k),
    },
    window: { dispatchEvent: (e: Event) => dispatched.push(e.type) },
  });
  client = (await import(pathToFileURL(join(import.meta.dirname, 'public/js/api.js')).href)) as ClientModule;
});

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const ch of chunks) c.enqueue(enc.encode(ch));
      c.close();
    },
  });
}

describe('console API client', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    server = undefined;
    storage.clear();
    dispatched.length = 0;
  });

  it('parses SSE frames split anywhere, with CRLF, comments and multi-line data', async () => {
    const got: [string, string][] = [];
    await client.readEvents(
      streamOf([
        ': connected\n\n',
        'id: a:1\nevent: al',
        'ert\ndata: {"id":"a"}\n',
        '\n: heartbeat\n\n',
        'event: alert\r\ndata: line1\r\ndata: line2\r\n\r\n',
        'data: x',
      ]),
      (e, d) => got.push([e, d]),
    );
    expect(got).toEqual([
      ['alert', '{"id":"a"}'],
      ['alert', 'line1\nline2'],
    ]);
  });

  it('sends JWTs as bearer tokens and anything else as X-API-Key; drops empty query parameters', () => {
    expect(client.authHeaders('eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln')).toEqual({
      authorization: 'Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln',
    });
    expect(client.authHeaders('responder-key-0123456789')).toEqual({ 'x-api-key': 'responder-key-0123456789' });
    expect(client.query({ kind: 'error_burst', state: '', service: undefined, limit: 50 })).toBe(
      '?kind=error_burst&limit=50',
    );
    expect(client.query({})).toBe('');
  });

  it('reconnects after the stream drops, with the credential, and stops when the credential is refused', async () => {
    storage.set('meshward.credential', 'responder-key-0123456789');
    let connections = 0;
    const keys: (string | undefined)[] = [];
    server = createServer((req, res) => {
      connections++;
      keys.push(req.headers['x-api-key'] as string | undefined);
      if (connections === 3) {
        res
          .writeHead(401, { 'content-type': 'application/json' })
          .end('{"code":"MW_ERR_UNAUTHENTICATED","message":"no"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`event: alert\ndata: {"n":${connections}}\n\n`);
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    const events: string[] = [];
    const states: string[] = [];
    let opens = 0;
    const started = Date.now();
    await client.followStream(`http://127.0.0.1:${port}/v1/alerts/stream`, {
      signal: new AbortController().signal,
      onEvent: (_e, d) => events.push(d),
      onOpen: () => opens++,
      onState: (s) => states.push(s),
    });
    expect(events).toEqual(['{"n":1}', '{"n":2}']);
    expect(opens).toBe(2);
    expect(keys).toEqual(['responder-key-0123456789', 'responder-key-0123456789', 'responder-key-0123456789']);
    expect(states).toEqual(['connecting', 'live', 'offline', 'connecting', 'live', 'offline', 'connecting', 'offline']);
    expect(dispatched).toEqual(['meshward:unauthenticated']);
    // every drop after a successful open waits 0.5–1 s (the backoff resets on open): two waits
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
  });

  it('stops waiting to reconnect as soon as it is aborted', async () => {
    storage.set('meshward.credential', 'responder-key-0123456789');
    server = createServer((_req, res) => {
      res.writeHead(503).end();
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    const ac = new AbortController();
    const states: string[] = [];
    const done = client.followStream(`http://127.0.0.1:${port}/x`, {
      signal: ac.signal,
      onEvent: () => {},
      onState: (s) => states.push(s),
    });
    await new Promise((r) => setTimeout(r, 100));
    ac.abort();
    const t = Date.now();
    await done;
    expect(Date.now() - t).toBeLessThan(200);
    expect(states).toEqual(['connecting', 'offline']);
  });
});

describe('console charts', () => {
  it("gives a lone point's time axis half an hour either side, not uPlot's years", async () => {
    const { timeRange } = (await import(pathToFileURL(join(import.meta.dirname, 'public/js/charts.js')).href)) as {
      timeRange(min: number | null, max: number | null): [number | null, number | null];
    };
    const t = 1_796_140_073; // a new endpoint's first window, epoch s
    expect(timeRange(t, t)).toEqual([t - 1800, t + 1800]);
    expect(timeRange(t - 600, t)).toEqual([t - 600, t]);
    expect(timeRange(null, null)).toEqual([null, null]);
  });
});

import { maxHeaderSize } from 'node:http';
import { type AddressInfo, type Socket, connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { metricSum } from './metrics.js';

/** an HTTP answer read off the socket as bytes: status, headers (lower-case names) and body */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Writes `bytes` to a fresh TCP connection and reads everything the server writes until it closes the connection:
 * the way to send what no HTTP client sends (a request line that is not HTTP, headers past the server's limit).
 */
export function rawRequest(port: number, bytes: string | Buffer, timeoutMs = 5_000): Promise<RawAnswer> {
  return sentRequest(port, timeoutMs, (socket) => socket.write(bytes)).then(({ answer }) => answer);
}

/**
 * `head` (a request line and headers, without Content-Length) then `body` a byte every `everyMs` on a fresh TCP
 * connection, until the body is all sent or the server closes the connection: the answer, how many bytes of the body
 * went out, and how long after connecting the connection closed
 */
export function tricklingRequest(port: number, head: string, body: string, everyMs: number, timeoutMs: number) {
  const bytes = Buffer.from(body);
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  return sentRequest(port, timeoutMs, (socket) => {
    socket.write(`${head}Content-Length: ${bytes.length}\r\n\r\n`);
    timer = setInterval(() => {
      if (sent === bytes.length || socket.destroyed || !socket.writable) return clearInterval(timer);
      socket.write(bytes.subarray(sent, ++sent));
    }, everyMs);
  }).then(({ answer, closedAfterMs }) => {
    clearInterval(timer);
    return { answer, bodyBytesSent: sent, closedAfterMs };
  });
}

/** a fresh TCP connection, `send` on it, and everything the server writes until it closes the connection */
function sentRequest(
  port: number,
  timeoutMs: number,
  send: (socket: Socket) => void,
): Promise<{ answer: RawAnswer; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    // a deadline, not an idle timeout: a trickling request is never idle
    const deadline = setTimeout(() => socket.destroy(new Error(`no close within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', (c) => chunks.push(c));
    // the server may close while the rest of a large request is still being written
    socket.on('error', (err) => ((err as { code?: string }).code === 'ECONNRESET' ? undefined : reject(err)));
    socket.on('close', () => {
      clearTimeout(deadline);
      const text = Buffer.concat(chunks).toString('utf8');
      const [head, ...rest] = text.split('\r\n\r\n');
      const [statusLine, ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(
        lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
      );
      const answer = { status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') };
      resolve({ answer, closedAfterMs: Date.now() - start });
    });
    send(socket);
  });
}

/**
 * What no HTTP client sends, each with the answer a meshward server owes it: a request line that is not HTTP, a
 * malformed header line, headers one byte past Node's limit
 */
const MALFORMED: readonly [bytes: string, status: number, code: string][] = [
  ['GARBAGE\r\n\r\n', 400, 'MW_ERR_BAD_REQUEST'],
  ['GET /v1/alerts HTTP/1.1\r\nHost: x\r\nbad header\r\n\r\n', 400, 'MW_ERR_BAD_REQUEST'],
  [
    `GET /health HTTP/1.1\r\nHost: x\r\nx-big: ${'a'.repeat(maxHeaderSize + 1)}\r\n\r\n`,
    431,
    'MW_ERR_HEADERS_TOO_LARGE',
  ],
];

/** sends `bytes` and checks the catalogue answer (JSON body with the code) and one more in meshward_http_errors_total */
async function expectRefused(port: number, server: string, bytes: string, status: number, code: string) {
  const before = await metricSum('meshward_http_errors_total', { server, code });
  const answer = await rawRequest(port, bytes);
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
  expect(JSON.parse(answer.body)).toEqual({ code, message: expect.any(String) });
  expect(await metricSum('meshward_http_errors_total', { server, code })).toBe(before + 1);
  return answer;
}

/** listens `app` on a free port, runs `check` with the port, closes the app after */
async function listening(app: FastifyInstance, check: (port: number) => Promise<void>): Promise<void> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    await check((app.server.address() as AddressInfo).port);
  } finally {
    await app.close();
  }
}

/**
 * Listens `app` on a free port and checks over a real socket that each malformed request gets its catalogue answer
 * (JSON body with the code) and adds one to meshward_http_errors_total{server, code}; closes the app after.
 */
export async function expectMalformedHttpRefused(app: FastifyInstance, server: string): Promise<void> {
  await listening(app, async (port) => {
    for (const [bytes, status, code] of MALFORMED) await expectRefused(port, server, bytes, status, code);
  });
}

/**
 * For `app` made with a request timeout of `timeoutMs` (`requestTimeoutOptions`: its line and headers are bounded by
 * it too): a request line and one header, then nothing, over a real socket, is refused by Node's parser once the
 * timeout passed (408 `MW_ERR_REQUEST_TIMEOUT`, `Connection: close`) and adds one to
 * meshward_http_errors_total{server, code}; closes the app after.
 */
export async function expectStalledRequestRefused(app: FastifyInstance, server: string, timeoutMs: number) {
  await listening(app, async (port) => {
    const start = Date.now();
    const stalled = 'GET /healthz HTTP/1.1\r\nHost: x\r\n';
    const answer = await expectRefused(port, server, stalled, 408, 'MW_ERR_REQUEST_TIMEOUT');
    expect(answer.headers.connection).toBe('close');
    expect(Date.now() - start).toBeGreaterThanOrEqual(timeoutMs);
  });
}

/** a request `expectSlowBodyRefused` sends slowly, then at once: `head` without Content-Length, and what it owes it */
export interface SlowBodyRequest {
  /** the request line and headers, each ending in CRLF, without Content-Length */
  head: string;
  body: string;
  /** the answer to the same request sent at once */
  status: number;
}

/**
 * For `app` made with a request timeout of `timeoutMs` (`requestTimeoutOptions`), over a real socket: see
 * `expectSlowBodyRefusedAt`. Closes the app after.
 */
export async function expectSlowBodyRefused(
  app: FastifyInstance,
  server: string,
  timeoutMs: number,
  request: SlowBodyRequest,
) {
  await listening(app, (port) => expectSlowBodyRefusedAt(port, server, timeoutMs, request));
}

/**
 * For the server on `port`, whose request timeout is `timeoutMs`, over a real socket: `request`'s headers at once,
 * then its body a byte every 100 ms, is refused once the timeout passed and long before the body is all sent (408
 * `MW_ERR_REQUEST_TIMEOUT` with its catalogue body, `Connection: close`, the connection closed; within twice the
 * timeout, so Node looks often enough), adding one to meshward_http_errors_total{server, code} and nothing under any
 * other code (the body Fastify was reading, cut short, is not counted again); the same request sent at once gets its
 * own answer (`request.status`).
 */
export async function expectSlowBodyRefusedAt(
  port: number,
  server: string,
  timeoutMs: number,
  request: SlowBodyRequest,
) {
  const code = 'MW_ERR_REQUEST_TIMEOUT';
  const beforeCode = await metricSum('meshward_http_errors_total', { server, code });
  const beforeAll = await metricSum('meshward_http_errors_total', { server });
  const slow = await tricklingRequest(port, request.head, request.body, 100, timeoutMs * 3 + 5_000);
  expect(slow.answer.status).toBe(408);
  expect(slow.answer.headers['content-type']).toBe('application/json; charset=utf-8');
  expect(slow.answer.headers.connection).toBe('close');
  expect(JSON.parse(slow.answer.body)).toEqual({ code, message: expect.any(String) });
  expect(slow.closedAfterMs).toBeGreaterThanOrEqual(timeoutMs);
  expect(slow.closedAfterMs).toBeLessThan(timeoutMs * 2);
  expect(slow.bodyBytesSent).toBeLessThan(Buffer.byteLength(request.body));
  // the aborted body reaches Fastify's error handler after the connection closed: give it the time to (not) count
  await new Promise((r) => setTimeout(r, 200));
  expect(await metricSum('meshward_http_errors_total', { server, code })).toBe(beforeCode + 1);
  expect(await metricSum('meshward_http_errors_total', { server })).toBe(beforeAll + 1);

  const whole = await rawRequest(
    port,
    `${request.head}Connection: close\r\nContent-Length: ${Buffer.byteLength(request.body)}\r\n\r\n${request.body}`,
  );
  expect(whole.status, whole.body).toBe(request.status);
}

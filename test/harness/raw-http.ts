import { maxHeaderSize } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
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
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no close within ${timeoutMs} ms`)));
    socket.on('data', (c) => chunks.push(c));
    // the server may close while the rest of a large request is still being written
    socket.on('error', (err) => ((err as { code?: string }).code === 'ECONNRESET' ? undefined : reject(err)));
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head, ...rest] = text.split('\r\n\r\n');
      const [statusLine, ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(
        lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
      );
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') });
    });
    socket.write(bytes);
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
 * For `app` made with a headers timeout of `timeoutMs` (`HeadersTimeout`): a request line and one header, then
 * nothing, over a real socket, is refused by Node's parser once the timeout passed (408 `MW_ERR_REQUEST_TIMEOUT`,
 * `Connection: close`) and adds one to meshward_http_errors_total{server, code}; closes the app after.
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

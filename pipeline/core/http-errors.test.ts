import { type AddressInfo, type Socket, connect } from 'node:net';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { metricSum } from '../../test/harness/metrics.js';
import { rawRequest } from '../../test/harness/raw-http.js';
import { mwError } from './errors.js';
import { catalogueServerOptions, installErrorHandler } from './http-errors.js';
import { silentLogger } from './logger.js';

const SERVER = 'http-errors-test';
const counted = (code?: string) =>
  metricSum('meshward_http_errors_total', code === undefined ? { server: SERVER } : { server: SERVER, code });

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

/**
 * a server made as meshward's are, on a free port: POST /echo reads a JSON body, POST /guarded is refused by a hook
 * before its body is read (as an authentication hook does); the URLs that reached Fastify and the statuses it sent
 */
async function server(requestTimeoutMs: number) {
  const app = Fastify({ logger: false, ...catalogueServerOptions(SERVER, silentLogger, requestTimeoutMs) });
  installErrorHandler(app, SERVER, silentLogger);
  const arrived: string[] = [];
  const sent: number[] = [];
  app.addHook('onRequest', async (request) => {
    arrived.push(request.url);
    if (request.url === '/guarded') throw mwError('UNAUTHENTICATED');
  });
  app.addHook('onSend', async (_request, reply) => {
    sent.push(reply.statusCode);
  });
  app.post('/echo', async (request) => request.body);
  app.post('/guarded', async () => ({ ok: true }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  closers.push(() => app.close());
  return { port: (app.server.address() as AddressInfo).port, arrived, sent };
}

const head = (path: string, length: number) =>
  `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

/** a connection whose received bytes are kept, with a promise of its close */
function connection(port: number) {
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (c) => chunks.push(c));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  return { socket, received: () => Buffer.concat(chunks).toString('utf8'), closed };
}

/** what the error handler does with a body cut short happens after the connection closed: let it (not) count */
const settle = () => new Promise((r) => setTimeout(r, 200));

describe('HTTP errors counted once, over a real socket', () => {
  for (const [how, close] of [
    ['closes its side (FIN)', (s: Socket) => s.end()],
    ['resets the connection (RST)', (s: Socket) => s.resetAndDestroy()],
  ] as const) {
    it(`a client that ${how} mid-body is counted once as MW_ERR_CLIENT_ABORTED, not a 400, and is sent nothing`, async () => {
      const s = await server(5_000);
      const before = { aborted: await counted('MW_ERR_CLIENT_ABORTED'), all: await counted() };
      const c = connection(s.port);
      c.socket.write(`${head('/echo', 100)}{"cut":`);
      await expect.poll(() => s.arrived).toEqual(['/echo']);
      close(c.socket);
      await c.closed;
      await expect.poll(() => counted('MW_ERR_CLIENT_ABORTED')).toBe(before.aborted + 1);
      await settle();
      expect(await counted()).toBe(before.all + 1);
      expect(s.sent).toEqual([]);
      expect(c.received()).toBe('');
    });
  }

  it('a request refused before its body came, whose body then stops, is answered and counted once (no 408 after it)', async () => {
    const s = await server(500);
    const before = {
      refused: await counted('MW_ERR_UNAUTHENTICATED'),
      timeouts: await counted('MW_ERR_REQUEST_TIMEOUT'),
      all: await counted(),
    };
    // read until the server closes the connection, once the request timeout passed
    const answer = await rawRequest(s.port, `${head('/guarded', 100)}{"never":`);
    expect(answer.status).toBe(401);
    // one answer: a second would follow the first's body
    expect(JSON.parse(answer.body)).toEqual({ code: 'MW_ERR_UNAUTHENTICATED', message: expect.any(String) });
    await settle();
    expect(await counted('MW_ERR_UNAUTHENTICATED')).toBe(before.refused + 1);
    expect(await counted('MW_ERR_REQUEST_TIMEOUT')).toBe(before.timeouts);
    expect(await counted()).toBe(before.all + 1);
  });

  it('a request refused before its body came, whose client then closes mid-body, is counted once', async () => {
    const s = await server(5_000);
    const before = { refused: await counted('MW_ERR_UNAUTHENTICATED'), all: await counted() };
    const c = connection(s.port);
    c.socket.write(`${head('/guarded', 100)}{"cut":`);
    await expect.poll(() => c.received()).toContain('MW_ERR_UNAUTHENTICATED"');
    c.socket.end();
    await c.closed;
    await settle();
    expect(await counted('MW_ERR_UNAUTHENTICATED')).toBe(before.refused + 1);
    expect(await counted()).toBe(before.all + 1);
  });

  it('once the body of a request refused early has all come, the next request on the connection still times out with a 408', async () => {
    const s = await server(500);
    const before = {
      refused: await counted('MW_ERR_UNAUTHENTICATED'),
      timeouts: await counted('MW_ERR_REQUEST_TIMEOUT'),
    };
    const c = connection(s.port);
    c.socket.write(`${head('/guarded', 10)}{"a":`);
    await expect.poll(() => c.received()).toContain('MW_ERR_UNAUTHENTICATED"');
    c.socket.write('"bc"}');
    c.socket.write(`${head('/echo', 100)}{"stalled":`);
    await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 401 .*\r\n\r\n\{.*\}HTTP\/1\.1 408 .*MW_ERR_REQUEST_TIMEOUT/s);
    expect(await counted('MW_ERR_UNAUTHENTICATED')).toBe(before.refused + 1);
    expect(await counted('MW_ERR_REQUEST_TIMEOUT')).toBe(before.timeouts + 1);
  });
});

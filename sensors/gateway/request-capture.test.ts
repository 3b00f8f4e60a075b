import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import type { CapturedRequest } from './record-builder.js';
import { RequestCapture, routeTemplateReader } from './request-capture.js';

describe('RequestCapture', () => {
  it('processes what onResponse captured on the next turn, drops and counts beyond capacity, releases references', async () => {
    const seen: (string | undefined)[] = [];
    let dropped = 0;
    const slots: CapturedRequest[] = [];
    const capture = new RequestCapture(
      2,
      (c) => {
        seen.push(c.route);
        slots.push(c);
      },
      () => dropped++,
      () => {},
    );
    const request = { ip: '10.0.0.1', raw: { socket: {} } } as unknown as FastifyRequest;
    const reply = { elapsedTime: 1.5 } as unknown as FastifyReply;
    capture.add(request, reply, '/a');
    capture.add(request, reply, '/b');
    capture.add(request, reply, '/c');
    expect(seen).toEqual([]);
    expect(capture.pending).toBe(2);
    expect(dropped).toBe(1);
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(['/a', '/b']);
    expect(capture.pending).toBe(0);
    expect(slots[0]).toMatchObject({ request: undefined, reply: undefined, ip: '10.0.0.1', durationMs: 1.5 });
  });

  it('keeps draining when processing one request throws', () => {
    const errors: unknown[] = [];
    let n = 0;
    const capture = new RequestCapture(
      4,
      () => {
        if (n++ === 0) throw new Error('bad');
      },
      () => {},
      (e) => errors.push(e),
    );
    const request = { ip: '10.0.0.1', raw: { socket: {} } } as unknown as FastifyRequest;
    const reply = { elapsedTime: 0 } as unknown as FastifyReply;
    capture.add(request, reply, undefined);
    capture.add(request, reply, undefined);
    capture.drain();
    expect(n).toBe(2);
    expect(errors).toHaveLength(1);
  });
});

describe('routeTemplateReader', () => {
  it('reads the same route template as request.routeOptions.url, through the fast path', async () => {
    const read = routeTemplateReader();
    const pairs: [string | undefined, string | undefined][] = [];
    const app = Fastify();
    app.addHook('onResponse', async (request) => {
      pairs.push([read(request), request.routeOptions.url]);
    });
    app.get('/orders/:id', async () => 'x');
    await app.register(
      async (sub) => {
        sub.get('/items/*', async () => 'y');
      },
      { prefix: '/v2' },
    );
    for (const url of ['/orders/1', '/v2/items/a/b', '/nope']) await app.inject({ url });
    await app.close();
    expect(pairs).toEqual([
      ['/orders/:id', '/orders/:id'],
      ['/v2/items/*', '/v2/items/*'],
      [undefined, undefined],
    ]);
    expect(read.fast()).toBe(true);
  });
});

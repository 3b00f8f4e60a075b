import { join } from 'node:path';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { describe, expect, it } from 'vitest';
import { type ApiCallRecord, ApiCallRecordSchema } from '../../pipeline/core/record.js';
import { compileMapping, loadMappingFile } from './mapping.js';
import { type PairingCount, RequestPairing, type TappedMessage } from './request-pairing.js';

const check = TypeCompiler.Compile(ApiCallRecordSchema);
const mapping = compileMapping(loadMappingFile(join(import.meta.dirname, 'testdata', 'mapping.yaml')));

function rig(maxPending = 100) {
  let now = 1_000_000;
  const out: ApiCallRecord[] = [];
  const counted: [PairingCount, string][] = [];
  const p = new RequestPairing(
    mapping,
    { sensorId: 'bus-t', maxPending, onCount: (what, topic) => counted.push([what, topic]) },
    (r) => out.push(r),
    () => now,
  );
  return {
    p,
    out,
    counted,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const msg = (topic: string, timestamp: number, headers: Record<string, string>, size = 10): TappedMessage => ({
  topic,
  timestamp,
  headers,
  size,
});

describe('RequestPairing', () => {
  it('pairs a reply with its request: latency from message timestamps, status from the reply header', () => {
    const { p, out } = rig();
    p.onMessage(
      msg(
        'orders.requests',
        5_000,
        {
          'correlation-id': 'c1',
          'x-operation': 'create',
          'x-caller': 'web',
          traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
        },
        120,
      ),
    );
    expect(out).toHaveLength(0);
    p.onMessage(msg('orders.replies', 5_042, { 'correlation-id': 'c1', 'x-status': '409' }, 33));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      ts: 5_000,
      durationMs: 42,
      sensor: { kind: 'bus', id: 'bus-t' },
      service: 'orders',
      method: 'PUBLISH',
      host: 'orders.requests',
      path: '/topic/orders.requests/create',
      route: '/topic/orders.requests/create',
      status: 409,
      reqBytes: 120,
      respBytes: 33,
      source: { service: 'web' },
      trace: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736' },
      tags: { bus_outcome: 'reply', bus_operation: 'create', bus_reply_topic: 'orders.replies' },
    });
    expect(check.Check(out[0])).toBe(true);
    expect(p.stats()).toMatchObject({ pending: 0, replied: 1 });
  });

  it('defaults the status to 200, the operation to the mapping, and labels user callers', () => {
    const { p, out } = rig();
    p.onMessage(msg('payments.requests', 1, { 'correlation-id': 'p1', 'x-user': 'alice' }));
    p.onMessage(msg('payments.replies', 9, { 'correlation-id': 'p1' }));
    expect(out[0]).toMatchObject({ status: 200, path: '/topic/payments.requests/charge', user: { sub: 'alice' } });
    expect(out[0].source).toEqual({});
  });

  it('records a request without reply as 504 timeout once its mapping timeout passes', () => {
    const { p, out, advance } = rig();
    p.onMessage(msg('orders.requests', 7, { 'correlation-id': 'slow', 'x-operation': 'get' }));
    advance(399);
    p.sweep();
    expect(out).toHaveLength(0);
    advance(2);
    p.sweep();
    expect(out[0]).toMatchObject({ status: 504, durationMs: 400, tags: { bus_outcome: 'timeout' } });
    // a late reply no longer matches: it waits for a request that never comes, then counts as unmatched
    p.onMessage(msg('orders.replies', 900, { 'correlation-id': 'slow' }));
    expect(p.stats().earlyReplies).toBe(1);
    advance(401);
    p.sweep();
    expect(out).toHaveLength(1);
    expect(p.stats()).toMatchObject({ timeouts: 1, unmatchedReplies: 1, pending: 0, earlyReplies: 0 });
  });

  it('records one-way topics at once (202), and requests without correlation id as one-way', () => {
    const { p, out } = rig();
    p.onMessage(msg('audit.events', 3, {}));
    p.onMessage(msg('orders.requests', 4, { 'x-operation': 'ping' }));
    expect(out.map((r) => [r.path, r.status, r.tags?.bus_outcome])).toEqual([
      ['/topic/audit.events/record', 202, 'one_way'],
      ['/topic/orders.requests/ping', 202, 'one_way'],
    ]);
    expect(p.stats()).toMatchObject({ oneWay: 2, uncorrelated: 1 });
  });

  it('bounds pending requests, evicting (and recording) the oldest', () => {
    const { p, out } = rig(2);
    p.onMessage(msg('orders.requests', 1, { 'correlation-id': 'a' }));
    p.onMessage(msg('payments.requests', 2, { 'correlation-id': 'b' }));
    p.onMessage(msg('orders.requests', 3, { 'correlation-id': 'c' }));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ ts: 1, status: 0, tags: { bus_outcome: 'evicted' } });
    expect(p.stats()).toMatchObject({ pending: 2, evicted: 1 });
  });

  it('keeps the first sighting of a redelivered request and sanitises operation names', () => {
    const { p, out } = rig();
    p.onMessage(msg('orders.requests', 1, { 'correlation-id': 'd', 'x-operation': 'a/b c' }));
    p.onMessage(msg('orders.requests', 2, { 'correlation-id': 'd', 'x-operation': 'a/b c' }));
    p.onMessage(msg('orders.replies', 5, { 'correlation-id': 'd' }));
    expect(out).toHaveLength(1);
    expect(out[0].path).toBe('/topic/orders.requests/a_b_c');
    expect(out[0].durationMs).toBe(4);
    expect(p.stats().duplicates).toBe(1);
  });

  it('pairs a reply read before its request (topics are consumed independently)', () => {
    const { p, out, advance } = rig();
    p.onMessage(msg('payments.replies', 60, { 'correlation-id': 'early' }, 7));
    advance(100);
    p.onMessage(msg('payments.requests', 10, { 'correlation-id': 'early', 'x-user': 'bob' }, 5));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ ts: 10, durationMs: 50, status: 200, respBytes: 7, user: { sub: 'bob' } });
    expect(p.stats()).toMatchObject({ replied: 1, earlyReplies: 0, pending: 0 });
  });

  it('holds at most max_pending early replies across mappings, dropping and counting the oldest', () => {
    const { p, out } = rig(1);
    p.onMessage(msg('payments.replies', 60, { 'correlation-id': 'pay-1' }));
    // the orders mapping holds no early reply of its own: the payments one, older, is the one dropped
    p.onMessage(msg('orders.replies', 70, { 'correlation-id': 'ord-1' }));
    expect(p.stats()).toMatchObject({ earlyReplies: 1, unmatchedReplies: 1 });
    p.onMessage(msg('orders.requests', 65, { 'correlation-id': 'ord-1' }));
    p.onMessage(msg('payments.requests', 55, { 'correlation-id': 'pay-1' }));
    expect(out.map((r) => r.tags?.bus_outcome)).toEqual(['reply']);
    expect(p.stats()).toMatchObject({ replied: 1, earlyReplies: 0, pending: 1, unmatchedReplies: 1 });
  });

  it('clear drops what waits without recording it, and what was cleared is not paired later', () => {
    const { p, out, counted, advance } = rig();
    p.onMessage(msg('orders.requests', 1, { 'correlation-id': 'o-1' }));
    p.onMessage(msg('payments.replies', 2, { 'correlation-id': 'pay-1' }));
    expect(p.stats()).toMatchObject({ pending: 1, earlyReplies: 1 });
    p.clear();
    expect(p.stats()).toMatchObject({ pending: 0, earlyReplies: 0 });
    p.onMessage(msg('orders.replies', 3, { 'correlation-id': 'o-1' }));
    expect(p.stats()).toMatchObject({ pending: 0, earlyReplies: 1, replied: 0 });
    advance(1_000);
    p.sweep();
    expect(out).toHaveLength(0);
    expect(counted).toEqual([['unmatchedReplies', 'orders.replies']]);
  });

  it('ignores messages of topics it does not map', () => {
    const { p, out } = rig();
    p.onMessage(msg('other.topic', 1, { 'correlation-id': 'x' }));
    expect(out).toHaveLength(0);
    expect(p.stats()).toMatchObject({ pending: 0, unmatchedReplies: 0 });
  });

  it('hands each duplicate, unmatched reply and uncorrelated request to onCount with the topic it was read from', () => {
    const { p, counted, advance } = rig(1);
    p.onMessage(msg('orders.requests', 1, { 'correlation-id': 'o-1' }));
    p.onMessage(msg('orders.requests', 2, { 'correlation-id': 'o-1' }));
    p.onMessage(msg('orders.requests', 3, {}));
    p.onMessage(msg('orders.replies', 4, {}));
    p.onMessage(msg('payments.replies', 5, { 'correlation-id': 'pay-1' }));
    p.onMessage(msg('payments.replies', 6, { 'correlation-id': 'pay-1' }));
    // the bound on early replies drops the payments reply: counted against its own topic, not the one just read
    p.onMessage(msg('orders.replies', 7, { 'correlation-id': 'ord-9' }));
    advance(1_000);
    p.sweep();
    expect(counted).toEqual([
      ['duplicates', 'orders.requests'],
      ['uncorrelated', 'orders.requests'],
      ['unmatchedReplies', 'orders.replies'],
      ['duplicates', 'payments.replies'],
      ['unmatchedReplies', 'payments.replies'],
      ['unmatchedReplies', 'orders.replies'],
    ]);
    expect(p.stats()).toMatchObject({ duplicates: 2, uncorrelated: 1, unmatchedReplies: 3, timeouts: 1 });
  });
});

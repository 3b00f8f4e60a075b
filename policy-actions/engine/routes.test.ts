import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Decision } from '../../pipeline/core/decision.js';
import { installErrorHandler } from '../../pipeline/core/http-errors.js';
import { silentLogger } from '../../pipeline/core/logger.js';
import { MemoryStore } from '../../pipeline/store/memory-store.js';
import { followDecisions } from './decision-feed-client.js';
import { type PolicyEngine, createPolicyEngine } from './engine.js';
import { parsePolicy } from './policy.js';
import { decisionRoutes } from './routes.js';
import { makeAlert } from './testdata/alerts.js';
import { RecordingAdapter } from './testdata/recording-adapter.js';

const policy = parsePolicy(readFileSync(join(import.meta.dirname, 'testdata/policy.yaml'), 'utf8'));

async function until(cond: () => boolean, ms = 3000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('decision routes and the enforcement feed', () => {
  let app: FastifyInstance;
  let engine: PolicyEngine;
  let store: MemoryStore;
  let gateway: RecordingAdapter;

  beforeEach(async () => {
    store = new MemoryStore();
    gateway = new RecordingAdapter('gateways/test', ['deny', 'rate_limit', 'step_up', 'revoke_token']);
    engine = createPolicyEngine({
      store,
      policy,
      adapters: { 'gateways/test': gateway },
      config: { expiry_interval_ms: 0, retry_base_delay_ms: 1 },
    });
    // with the API server's error handler, as the analyst API mounts the routes
    app = Fastify();
    installErrorHandler(app, 'api', silentLogger);
    await app.register(decisionRoutes, {
      engine,
      heartbeatMs: 100,
      getActor: (req) => String(req.headers['x-test-user'] ?? 'nobody'),
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterEach(async () => {
    await app.close();
    await engine.close();
    await store.close();
  });

  const url = () => `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;

  it('lists, gets, approves and lifts decisions, recording the actor', async () => {
    const [d] = await engine.handleAlert(
      makeAlert({ kind: 'brute_force', severity: 'high', subject: { type: 'user', value: 'alice' } }),
    );
    const list = await app.inject({ method: 'GET', url: '/v1/decisions?state=pending_approval' });
    expect(list.statusCode).toBe(200);
    expect(list.json().decisions.map((x: Decision) => x.id)).toEqual([d.id]);
    const bogus = await app.inject({ method: 'GET', url: '/v1/decisions?state=bogus' });
    expect(bogus.statusCode).toBe(400);
    expect(bogus.json().message).toMatch(/^bad request: querystring\/state must be one of pending_approval, /);
    expect((await app.inject({ method: 'GET', url: `/v1/decisions/${d.id}` })).json()).toEqual(d);
    // held for approval: when it expires unapproved and how long it would be enforced, and no enforcement end yet
    const held = (await app.inject({ method: 'GET', url: `/v1/decisions/${d.id}` })).json();
    expect(held).toMatchObject({ ttlMs: 30 * 60_000, approvalDeadline: d.createdAt + 30 * 60_000 });
    expect(held).not.toHaveProperty('until');
    const missing = await app.inject({ method: 'GET', url: '/v1/decisions/dec_nope' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('MW_ERR_NOT_FOUND');

    const approved = await app.inject({
      method: 'POST',
      url: `/v1/decisions/${d.id}/approve`,
      headers: { 'x-test-user': 'analyst-3' },
    });
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toMatchObject({ state: 'active', ttlMs: 30 * 60_000 });
    // enforced for its 30 minutes from the approval
    const enforcedFor = approved.json().until - approved.json().updatedAt;
    expect(enforcedFor).toBeGreaterThan(30 * 60_000 - 5_000);
    expect(enforcedFor).toBeLessThanOrEqual(30 * 60_000);
    expect(gateway.applies()).toBe(1);
    const again = await app.inject({ method: 'POST', url: `/v1/decisions/${d.id}/approve` });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('MW_ERR_CONFLICT');

    const noComment = await app.inject({ method: 'POST', url: `/v1/decisions/${d.id}/lift`, payload: {} });
    expect(noComment.statusCode).toBe(400);
    const lifted = await app.inject({
      method: 'POST',
      url: `/v1/decisions/${d.id}/lift`,
      headers: { 'x-test-user': 'analyst-4' },
      payload: { comment: 'user verified by phone' },
    });
    expect(lifted.json().state).toBe('lifted');

    const audit = (await app.inject({ method: 'GET', url: `/v1/audit?decisionId=${d.id}` })).json();
    const actors = audit.entries.map((e: { action: string; actor: string }) => `${e.action}:${e.actor}`);
    expect(actors).toContain('approved:analyst-3');
    expect(actors).toContain('lifted:analyst-4');
    const page = (await app.inject({ method: 'GET', url: '/v1/audit?limit=2' })).json();
    expect(page.entries).toHaveLength(2);
    const page2 = (await app.inject({ method: 'GET', url: `/v1/audit?limit=2&after=${page.next}` })).json();
    expect(page2.entries[0].id).not.toBe(page.entries[0].id);
    // newest first: the lift, then what came before it, page after page, to the first entry
    const all = (await app.inject({ method: 'GET', url: '/v1/audit?limit=1000' })).json().entries;
    const newest: { id: string; action: string }[] = [];
    let before: string | undefined;
    for (;;) {
      const url = `/v1/audit?order=newest&limit=2${before ? `&before=${before}` : ''}`;
      const p = (await app.inject({ method: 'GET', url })).json();
      if (p.entries.length === 0) break;
      newest.push(...p.entries);
      // the last page answers no `next`
      if (!p.next) break;
      before = p.next;
    }
    expect(newest[0].action).toBe('lifted');
    expect(newest.map((e) => e.id)).toEqual(all.map((e: { id: string }) => e.id).reverse());
    const mixed = await app.inject({ method: 'GET', url: `/v1/audit?order=newest&after=${page.next}` });
    expect(mixed.statusCode).toBe(400);
  });

  it("lists an alert's decisions, however many others were taken since (an alert's page shows them)", async () => {
    const alert = makeAlert({ subject: { type: 'token', value: 'tok-mine' } });
    const mine = await engine.handleAlert(alert);
    expect(mine.length).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++) await engine.handleAlert(makeAlert({ subject: { type: 'token', value: `tok-${i}` } }));
    const listed = await app.inject({ method: 'GET', url: `/v1/decisions?alert_id=${alert.id}&limit=2` });
    expect(listed.statusCode).toBe(200);
    expect(listed.json().decisions.map((d: Decision) => d.id)).toEqual(mine.map((d) => d.id).reverse());
    expect((await app.inject({ method: 'GET', url: '/v1/decisions?alert_id=alert_none' })).json().decisions).toEqual(
      [],
    );
  });

  it("lists the decisions acting on one value, of any scope or of the one given (a subject's page shows them)", async () => {
    const [onAlice] = await engine.handleAlert(
      makeAlert({ kind: 'brute_force', severity: 'high', subject: { type: 'user', value: 'alice' } }),
    );
    await engine.handleAlert(
      makeAlert({ kind: 'brute_force', severity: 'high', subject: { type: 'user', value: 'bob' } }),
    );
    const [onIp] = await engine.handleAlert(
      makeAlert({
        kind: 'enumeration',
        subject: { type: 'ip', value: '203.0.113.61' },
        labels: { category: 'payments' },
      }),
    );
    const ids = async (q: string) => {
      const res = await app.inject({ method: 'GET', url: `/v1/decisions?${q}` });
      expect(res.statusCode).toBe(200);
      return res.json().decisions.map((d: Decision) => d.id);
    };
    expect(await ids('value=alice')).toEqual([onAlice.id]);
    expect(await ids('value=203.0.113.61')).toEqual([onIp.id]);
    expect(await ids('value=203.0.113.61&scope=ip')).toEqual([onIp.id]);
    expect(await ids('value=203.0.113.61&scope=user')).toEqual([]);
    // exactly: neither a prefix nor another case
    expect(await ids('value=ALICE')).toEqual([]);
    expect(await ids('value=203.0.113.6')).toEqual([]);
    const tooLong = await app.inject({ method: 'GET', url: `/v1/decisions?value=${'x'.repeat(1101)}` });
    expect(tooLong.statusCode).toBe(400);
  });

  it('a renewal says which decision it renews, in the answer of one and in the list of its alert', async () => {
    const attack = makeAlert({
      kind: 'enumeration',
      subject: { type: 'ip', value: '203.0.113.60' },
      labels: { category: 'payments' },
    });
    const [first] = await engine.handleAlert(attack);
    const end = first.until ?? 0;
    expect(await engine.expireDue(end)).toBe(1);
    // newest first: made in the same millisecond as the first, the renewal's place would be left to the ids' order
    await until(() => Date.now() > first.createdAt);
    // the attack went on after the deny ended: its alert, refreshed, renews it
    const [renewal] = await engine.handleAlert({ ...attack, count: 2, lastSeen: end + 1000, updatedAt: end + 1000 });
    expect(renewal).toMatchObject({ renews: first.id, state: 'active' });
    const one = await app.inject({ method: 'GET', url: `/v1/decisions/${renewal.id}` });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toEqual(renewal);
    const list = (await app.inject({ method: 'GET', url: `/v1/decisions?alert_id=${attack.id}` })).json();
    expect(list.decisions.map((d: Decision) => [d.id, d.state, d.renews ?? null])).toEqual([
      [renewal.id, 'active', first.id],
      [first.id, 'expired', null],
    ]);
  });

  it('streams NDJSON: snapshot, sync, deltas and heartbeats', async () => {
    const [first] = await engine.handleAlert(makeAlert({ subject: { type: 'token', value: 'tok-1' } }));
    await engine.handleAlert(makeAlert({ kind: 'credential_stuffing', subject: { type: 'ip', value: '203.0.113.4' } })); // dry run
    const ac = new AbortController();
    const res = await fetch(`${url()}/v1/decisions/stream?startup=true`, { signal: ac.signal });
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const lines: Record<string, unknown>[] = [];
    const reading = (async () => {
      const dec = new TextDecoder();
      let buf = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buf += dec.decode(chunk, { stream: true });
          const parts = buf.split('\n');
          buf = parts.pop() ?? '';
          for (const p of parts) if (p) lines.push(JSON.parse(p));
        }
      } catch {
        // aborted
      }
    })();
    await until(() => lines.length >= 2);
    expect(lines.slice(0, 2)).toEqual([{ type: 'upsert', decision: first }, { type: 'sync' }]);
    const [second] = await engine.handleAlert(makeAlert({ subject: { type: 'token', value: 'tok-2' } }));
    await engine.lift(first.id, 'a', 'done');
    await until(() => lines.some((l) => l.type === 'remove'));
    await until(() => lines.some((l) => l.type === 'heartbeat'));
    const deltas = lines.filter((l) => l.type !== 'heartbeat').slice(2);
    expect(deltas).toEqual([
      { type: 'upsert', decision: second },
      { type: 'remove', id: first.id },
    ]);
    ac.abort();
    await reading;
  });

  it('followDecisions keeps a local map, and reconciles after reconnecting', async () => {
    const [a] = await engine.handleAlert(makeAlert({ subject: { type: 'token', value: 'tok-a' } }));
    const events: string[] = [];
    const follower = followDecisions(`${url()}/v1/decisions/stream`, {
      token: 'test-token',
      onUpsert: (d) => events.push(`upsert:${d.value}`),
      onRemove: (id) => events.push(`remove:${id}`),
      backoffMs: 20,
      maxBackoffMs: 50,
      idleTimeoutMs: 1000,
    });
    await follower.ready;
    expect([...follower.decisions.keys()]).toEqual([a.id]);
    const [b] = await engine.handleAlert(makeAlert({ subject: { type: 'token', value: 'tok-b' } }));
    await until(() => follower.decisions.has(b.id));

    // the server goes away; meanwhile `a` is lifted; a new server over the same engine comes up on the same port
    const port = (app.server.address() as { port: number }).port;
    await app.close();
    await engine.lift(a.id, 'x', 'lifted while the feed was down');
    app = Fastify();
    installErrorHandler(app, 'api', silentLogger);
    await app.register(decisionRoutes, { engine, heartbeatMs: 100 });
    await app.listen({ port, host: '127.0.0.1' });
    await until(() => !follower.decisions.has(a.id));
    expect([...follower.decisions.keys()]).toEqual([b.id]);
    expect(events).toContain(`remove:${a.id}`);
    await follower.close();
  });
});

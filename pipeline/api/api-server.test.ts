import {
  expectMalformedHttpRefused,
  expectSlowBodyRefused,
  expectStalledRequestRefused,
} from '../../test/harness/raw-http.js';
import { exportJWK, generateKeyPair, SignJWT, createLocalJWKSet } from 'jose';
import { describe, expect, it } from 'vitest';
import { AlertRepository } from '../alerts/alert-repository.js';
import { SilenceRepository } from '../alerts/silences.js';
import type { Alert } from '../core/alert.js';
import type { Decision } from '../core/decision.js';
import { silentLogger } from '../core/logger.js';
import { MemoryStore } from '../store/memory-store.js';
import { createRedisStore } from '../store/redis-store.js';
import { alertRoutes } from './alert-routes.js';
import { AnalystDirectory, analystRoutes } from './analyst-directory.js';
import { createApiServer } from './api-server.js';
import { ApiAuthenticator } from './auth.js';
import { consoleRoutes } from './console-routes.js';
import { serviceRoutes } from './service-routes.js';
import { silenceRoutes } from './silence-routes.js';

const KEYS = { viewer: 'viewer-key-0123456789', responder: 'responder-key-0123456789', admin: 'admin-key-0123456789' };

const alert = (i: number, extra: Partial<Alert> = {}): Alert => ({
  v: 1,
  id: `alr_${String(i).padStart(4, '0')}`,
  kind: i % 2 ? 'error_burst' : 'enumeration',
  severity: i % 3 === 0 ? 'high' : 'medium',
  state: 'open',
  service: i % 2 ? 'orders' : 'users',
  firstSeen: 1000 + i,
  lastSeen: 2000 + Math.floor(i / 2),
  count: 1,
  summary: `alert ${i}`,
  evidence: { recordIds: [], metrics: {} },
  updatedAt: 2000 + i,
  ...extra,
});

async function setup(oidc?: ConstructorParameters<typeof ApiAuthenticator>[1], requestTimeoutMs?: number) {
  const store = new MemoryStore();
  const alerts = new AlertRepository(store);
  const auth = new ApiAuthenticator(
    Object.entries(KEYS).map(([role, key]) => ({ name: `${role}-user`, key, role: role as 'viewer' })),
    oidc,
  );
  const analysts = new AnalystDirectory(store, () => auth.keyPrincipals());
  const app = await createApiServer({
    auth,
    logger: silentLogger,
    health: () => ({ bus: true }),
    onAuthenticated: (p) => analysts.seen(p),
    requestTimeoutMs,
    plugins: [
      alertRoutes({ alerts }),
      serviceRoutes(store),
      silenceRoutes(new SilenceRepository(store), alerts),
      analystRoutes(analysts),
      consoleRoutes(),
    ],
  });
  return { app, alerts, store };
}

describe('analyst API', () => {
  it('answers 503 MW_ERR_STORE_UNAVAILABLE with Retry-After when the Redis store cannot answer', async () => {
    // a Redis store that is closed fails every command at once with STORE_UNAVAILABLE, as one that is down does
    const store = createRedisStore({ url: 'redis://127.0.0.1:1/0' });
    await store.close();
    const app = await createApiServer({
      auth: new ApiAuthenticator([{ name: 'viewer-user', key: KEYS.viewer, role: 'viewer' }]),
      logger: silentLogger,
      health: () => ({}),
      plugins: [alertRoutes({ alerts: new AlertRepository(store) })],
    });
    try {
      const res = await app.inject({ url: '/v1/alerts', headers: { 'x-api-key': KEYS.viewer } });
      expect([res.statusCode, res.json().code, res.headers['retry-after']]).toEqual([
        503,
        'MW_ERR_STORE_UNAVAILABLE',
        '5',
      ]);
    } finally {
      await app.close();
    }
  });
  it('answers a request Node cannot parse with a catalogue code, counted, over a real socket', async () => {
    const { app } = await setup();
    await expectMalformedHttpRefused(app, 'api');
  });
  it('answers 408 MW_ERR_REQUEST_TIMEOUT, counted, to a request whose headers stop coming, over a real socket', async () => {
    const { app } = await setup(undefined, 300);
    await expectStalledRequestRefused(app, 'api', 300);
  });
  it('answers 408 MW_ERR_REQUEST_TIMEOUT, counted once, to a request whose body comes a byte at a time, over a real socket; the same request sent at once is answered', async () => {
    const { app } = await setup(undefined, 1_000);
    const silence = { matchers: { kind: 'enumeration' }, duration_minutes: 5, comment: 'slow body' };
    await expectSlowBodyRefused(app, 'api', 1_000, {
      head: `POST /v1/silences HTTP/1.1\r\nHost: x\r\nX-API-Key: ${KEYS.responder}\r\nContent-Type: application/json\r\n`,
      body: JSON.stringify(silence).padEnd(1_000),
      status: 200,
    });
  });
  it('every /v1 route states a role and refuses callers below it', async () => {
    const { app } = await setup();
    await app.ready();
    const routes: { method: string; url: string; role?: string }[] = [];
    const swagger = app.swagger() as { paths: Record<string, Record<string, unknown>> };
    for (const [path, methods] of Object.entries(swagger.paths)) {
      for (const method of Object.keys(methods))
        routes.push({ method: method.toUpperCase(), url: path.replace(/\{(\w+)\}/g, 'x') });
    }
    expect(routes.length).toBeGreaterThanOrEqual(7);
    const rank = ['none', 'viewer', 'responder', 'admin'];
    for (const r of routes) {
      const none = await app.inject({ method: r.method as 'GET', url: r.url });
      expect(none.statusCode, `${r.method} ${r.url} without credentials`).toBe(401);
      if (r.url.endsWith('/stream')) continue; // long-lived: covered by the stream test
      // find the least role that gets past auth, then check every lower one is 403
      let least = '';
      for (const role of ['viewer', 'responder', 'admin'] as const) {
        const res = await app.inject({
          method: r.method as 'GET',
          url: r.url,
          headers: { 'x-api-key': KEYS[role] },
          payload: r.method === 'POST' ? {} : undefined,
        });
        if (res.statusCode !== 403 && !least) least = role;
        if (least && res.statusCode === 403)
          throw new Error(`${r.method} ${r.url}: ${role} refused although ${least} is allowed`);
      }
      expect(least, `${r.method} ${r.url} must be allowed to someone`).not.toBe('');
      for (const lower of rank.slice(1, rank.indexOf(least))) {
        const res = await app.inject({
          method: r.method as 'GET',
          url: r.url,
          headers: { 'x-api-key': KEYS[lower as 'viewer'] },
        });
        expect(res.statusCode).toBe(403);
      }
    }
    const ack = await app.inject({
      method: 'POST',
      url: '/v1/alerts/x/acknowledge',
      headers: { 'x-api-key': KEYS.viewer },
    });
    expect(ack.statusCode).toBe(403);
  });

  it('lists alerts newest first with filters and a cursor that walks every page once', async () => {
    const { app, alerts } = await setup();
    for (let i = 0; i < 25; i++) await alerts.upsert(alert(i));
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const res = await app.inject({
        url: `/v1/alerts?limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        headers: { 'x-api-key': KEYS.viewer },
      });
      expect(res.statusCode).toBe(200);
      const body = res.json() as { items: Alert[]; next?: string };
      seen.push(...body.items.map((a) => a.id));
      cursor = body.next;
      if (!cursor) break;
    }
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
    const filtered = await app.inject({
      url: '/v1/alerts?service=orders&severity=high',
      headers: { 'x-api-key': KEYS.viewer },
    });
    const items = (filtered.json() as { items: Alert[] }).items;
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((a) => a.service === 'orders' && a.severity === 'high')).toBe(true);
    // one endpoint, exactly (an alert's related alerts)
    await alerts.upsert(alert(30, { endpoint: 'GET /users/{id}' }));
    await alerts.upsert(alert(31, { endpoint: 'GET /users/{id}/orders' }));
    const endpoint = await app.inject({
      url: `/v1/alerts?endpoint=${encodeURIComponent('GET /users/{id}')}`,
      headers: { 'x-api-key': KEYS.viewer },
    });
    expect((endpoint.json() as { items: Alert[] }).items.map((a) => a.id)).toEqual(['alr_0030']);
  });

  it('sorts the open queue by severity (then newest), count or first seen, a cursor walking it once; refuses sorting every alert', async () => {
    const { app, alerts } = await setup();
    // alert(i): high when i % 3 == 0, else medium; a few with more occurrences; two resolved
    for (let i = 0; i < 14; i++) await alerts.upsert(alert(i, { count: 1 + (i % 4) }));
    for (const id of ['alr_0003', 'alr_0004']) await alerts.transition(id, 'resolve', 'someone');
    const get = (q: string) => app.inject({ url: `/v1/alerts?${q}`, headers: { 'x-api-key': KEYS.viewer } });
    const walk = async (q: string) => {
      const seen: Alert[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 10; page++) {
        const res = await get(`${q}&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expect(res.statusCode, q).toBe(200);
        seen.push(...res.json().items);
        cursor = res.json().next;
        if (!cursor) break;
      }
      return seen;
    };
    const bySeverity = await walk('state=open&sort=severity');
    expect(bySeverity.map((a) => `${a.severity} ${a.lastSeen} ${a.id}`)).toEqual([
      'high 2006 alr_0012',
      'high 2004 alr_0009',
      'high 2003 alr_0006',
      'high 2000 alr_0000',
      'medium 2006 alr_0013',
      'medium 2005 alr_0011',
      'medium 2005 alr_0010',
      'medium 2004 alr_0008',
      'medium 2003 alr_0007',
      'medium 2002 alr_0005',
      'medium 2001 alr_0002',
      'medium 2000 alr_0001',
    ]);
    const byCount = await walk('state=open&sort=count&service=orders');
    expect(byCount.map((a) => `${a.count} ${a.id}`)).toEqual([
      '4 alr_0011',
      '4 alr_0007',
      '2 alr_0013',
      '2 alr_0009',
      '2 alr_0005',
      '2 alr_0001',
    ]);
    const byFirstSeen = await walk('state=open&sort=first_seen');
    expect(byFirstSeen.map((a) => a.firstSeen)).toEqual(byFirstSeen.map((a) => a.firstSeen).sort((x, y) => y - x));
    expect(byFirstSeen).toHaveLength(12);
    // last_seen, the default, for any state
    expect((await walk('sort=last_seen')).map((a) => a.id)).toEqual((await walk('')).map((a) => a.id));

    const refusal = async (q: string) => {
      const res = await get(q);
      expect(res.statusCode, q).toBe(400);
      expect(res.json().code).toBe('MW_ERR_BAD_REQUEST');
      return res.json().message;
    };
    expect(await refusal('sort=severity')).toBe(
      'bad request: sort=severity lists the open or acknowledged alerts (state=open or state=acknowledged); other states list by last_seen',
    );
    expect(await refusal('sort=count&state=resolved')).toMatch(/^bad request: sort=count lists the open/);
    expect(await refusal('sort=priority&state=open')).toBe(
      'bad request: querystring/sort must be one of last_seen, severity, count, first_seen',
    );
    const first = (await get('state=open&sort=severity&limit=2')).json().next;
    expect(await refusal(`state=open&sort=count&cursor=${encodeURIComponent(first)}`)).toBe(
      'bad request: the cursor is of sort=severity, not sort=count: page on as it began',
    );
    expect(await refusal(`state=open&cursor=${encodeURIComponent(first)}`)).toBe('bad request: invalid cursor');
  });

  it('refuses a bad or misspelt filter or field with a 400 that says what to fix', async () => {
    const { app, alerts } = await setup();
    await alerts.upsert(alert(1));
    const refusal = async (url: string, payload?: Record<string, unknown>) => {
      const key = payload ? KEYS.responder : KEYS.viewer;
      const res = await app.inject({ method: payload ? 'POST' : 'GET', url, headers: { 'x-api-key': key }, payload });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().code).toBe('MW_ERR_BAD_REQUEST');
      return res.json().message;
    };
    expect(await refusal('/v1/alerts?state=bogus')).toBe(
      'bad request: querystring/state must be one of open, acknowledged, resolved',
    );
    expect(await refusal('/v1/alerts?min_severity=huge')).toBe(
      'bad request: querystring/min_severity must be one of info, low, medium, high, critical',
    );
    expect(await refusal('/v1/alerts?limit=0')).toBe('bad request: querystring/limit must be >= 1');
    // a misspelt kind would list nothing, or silence nothing: the kinds there are are named
    expect(await refusal('/v1/alerts?kind=enumaration')).toMatch(
      /^bad request: querystring\/kind must be one of error_burst, .*enumeration, .*action_failed, sensor_quiet$/,
    );
    expect(
      await refusal('/v1/silences', { matchers: { kind: 'enumaration' }, duration_minutes: 60, comment: 'noisy' }),
    ).toMatch(/^bad request: body\/matchers\/kind must be one of error_burst, /);
    const kinds = await app.inject({ url: '/v1/alert-kinds', headers: { 'x-api-key': KEYS.viewer } });
    expect(kinds.json().items).toContainEqual({
      kind: 'enumeration',
      description: expect.stringContaining('object ids'),
    });
    // a misspelt filter would list every alert, a misspelt comment would lose the note
    expect(await refusal('/v1/alerts?min_sev=high')).toBe('bad request: querystring has no field min_sev');
    expect(await refusal('/v1/alerts/alr_0001/resolve', { coment: 'fixed' })).toBe(
      'bad request: body has no field coment',
    );
    expect(await alerts.get('alr_0001')).toMatchObject({ state: 'open' });
  });

  it('acknowledges with a comment (responder), keeps the triage state while the correlator refreshes, records the note', async () => {
    const { app, alerts } = await setup();
    await alerts.upsert(alert(1));
    const res = await app.inject({
      method: 'POST',
      url: '/v1/alerts/alr_0001/acknowledge',
      headers: { 'x-api-key': KEYS.responder },
      payload: { comment: 'looking' },
    });
    expect(res.statusCode).toBe(200);
    await alerts.upsert(alert(1, { count: 2, updatedAt: 9999 }));
    const detail = await app.inject({ url: '/v1/alerts/alr_0001', headers: { 'x-api-key': KEYS.viewer } });
    expect(detail.json().alert).toMatchObject({ state: 'acknowledged', count: 2 });
    expect(detail.json().notes).toEqual([
      expect.objectContaining({ actor: 'responder-user', action: 'acknowledge', comment: 'looking' }),
    ]);
    const again = await app.inject({
      method: 'POST',
      url: '/v1/alerts/alr_0001/acknowledge',
      headers: { 'x-api-key': KEYS.responder },
    });
    expect(again.statusCode).toBe(409);
  });

  it('triages several alerts at once: each changed with the note, the others skipped with the reason', async () => {
    const { app, alerts } = await setup();
    for (const i of [1, 2, 3]) await alerts.upsert(alert(i));
    await alerts.transition('alr_0003', 'acknowledge', 'someone');
    const triage = (payload: Record<string, unknown>, key = KEYS.responder) =>
      app.inject({ method: 'POST', url: '/v1/alerts/triage', headers: { 'x-api-key': key }, payload });
    const ack = await triage({ action: 'acknowledge', ids: ['alr_0001', 'alr_0002', 'alr_0003', 'alr_none'] });
    expect(ack.statusCode).toBe(200);
    expect(ack.json().items.map((a: Alert) => [a.id, a.state])).toEqual([
      ['alr_0001', 'acknowledged'],
      ['alr_0002', 'acknowledged'],
    ]);
    expect(ack.json().skipped).toEqual([
      { id: 'alr_0003', reason: 'alert is acknowledged' },
      { id: 'alr_none', reason: 'not found' },
    ]);
    const resolve = await triage({ action: 'resolve', ids: ['alr_0001', 'alr_0003'], comment: 'pentest, agreed' });
    expect(resolve.json().items.map((a: Alert) => a.state)).toEqual(['resolved', 'resolved']);
    const detail = await app.inject({ url: '/v1/alerts/alr_0003', headers: { 'x-api-key': KEYS.viewer } });
    expect(detail.json().notes.at(-1)).toMatchObject({
      actor: 'responder-user',
      action: 'resolve',
      comment: 'pentest, agreed',
    });
    expect((await triage({ action: 'reopen', ids: ['alr_0002'] })).json().skipped).toEqual([]);
    expect((await triage({ action: 'resolve', ids: ['alr_0001'] })).json().skipped).toEqual([
      { id: 'alr_0001', reason: 'alert is resolved' },
    ]);
    // viewers may not triage; a bad request names its problem
    expect((await triage({ action: 'resolve', ids: ['alr_0002'] }, KEYS.viewer)).statusCode).toBe(403);
    for (const bad of [{ action: 'delete', ids: ['alr_0001'] }, { action: 'resolve', ids: [] }, { action: 'resolve' }])
      expect((await triage(bad)).statusCode).toBe(400);
    expect((await triage({ action: 'resolve', ids: ['a', 'a'] })).statusCode).toBe(400);
  });

  it('owners and notes: assign, filter by owner, keep the owner through refreshes, note without a state change, in bulk', async () => {
    const { app, alerts } = await setup();
    for (const i of [1, 2, 3]) await alerts.upsert(alert(i));
    const post = (url: string, payload: unknown, key = KEYS.responder) =>
      app.inject({ method: 'POST', url, headers: { 'x-api-key': key }, payload: payload as Record<string, unknown> });
    const list = async (q: string) =>
      (await app.inject({ url: `/v1/alerts?${q}`, headers: { 'x-api-key': KEYS.viewer } }))
        .json()
        .items.map((a: Alert) => a.id)
        .sort();

    const mine = await post('/v1/alerts/alr_0001/assign', { assignee: 'responder-user', comment: 'taking it' });
    expect(mine.statusCode).toBe(200);
    expect(mine.json()).toMatchObject({ id: 'alr_0001', assignee: 'responder-user', state: 'open' });
    expect(await list('assignee=responder-user')).toEqual(['alr_0001']);
    expect(await list('unassigned=true')).toEqual(['alr_0002', 'alr_0003']);
    expect(
      (await app.inject({ url: '/v1/alerts?assignee=a&unassigned=true', headers: { 'x-api-key': KEYS.viewer } }))
        .statusCode,
    ).toBe(400);

    // the correlator's refresh (more occurrences) keeps the owner; a reopening refresh too
    await alerts.upsert(alert(1, { count: 3, updatedAt: 99_999 }));
    expect(await alerts.get('alr_0001')).toMatchObject({ assignee: 'responder-user', count: 3 });
    await alerts.transition('alr_0001', 'resolve', 'someone');
    await alerts.upsert(alert(1, { count: 4, updatedAt: 199_999 }));
    expect(await alerts.get('alr_0001')).toMatchObject({ assignee: 'responder-user', state: 'open' });

    // a note: state and owner unchanged, the history has it; a blank note is refused
    const note = await post('/v1/alerts/alr_0001/notes', { comment: '  called the orders team  ' });
    expect(note.statusCode).toBe(200);
    expect(note.json()).toMatchObject({ state: 'open', assignee: 'responder-user' });
    for (const bad of [{ comment: '   ' }, {}, { comment: '' }])
      expect((await post('/v1/alerts/alr_0001/notes', bad)).statusCode).toBe(400);
    expect((await post('/v1/alerts/alr_none/notes', { comment: 'x' })).statusCode).toBe(404);

    // hand it over, then the new owner gives it up
    await post('/v1/alerts/alr_0001/assign', { assignee: 'admin-user' });
    const none = await post('/v1/alerts/alr_0001/unassign', null, KEYS.admin);
    expect(none.json().assignee).toBeUndefined();
    const detail = await app.inject({ url: '/v1/alerts/alr_0001', headers: { 'x-api-key': KEYS.viewer } });
    expect(
      detail
        .json()
        .notes.filter((n: { action: string }) => n.action !== 'resolve' && n.action !== 'reopen')
        .map((n: { action: string; assignee?: string | null; comment?: string }) => [n.action, n.assignee, n.comment]),
    ).toEqual([
      ['assign', 'responder-user', 'taking it'],
      ['comment', undefined, 'called the orders team'],
      ['assign', 'admin-user', undefined],
      ['assign', null, undefined],
    ]);
    for (const bad of [{ assignee: '' }, { assignee: 'a\nb' }, {}, { assignee: 'x'.repeat(201) }, { assignee: null }])
      expect((await post('/v1/alerts/alr_0001/assign', bad)).statusCode, JSON.stringify(bad)).toBe(400);
    expect((await post('/v1/alerts/alr_0001/assign', { assignee: 'x' }, KEYS.viewer)).statusCode).toBe(403);

    // in bulk: those already with that owner are skipped with the reason; assignee goes with assign only
    await alerts.assign('alr_0003', 'responder-user', 'someone');
    const bulk = await post('/v1/alerts/triage', {
      action: 'assign',
      ids: ['alr_0002', 'alr_0003'],
      assignee: 'responder-user',
    });
    expect(bulk.json().items.map((a: Alert) => [a.id, a.assignee])).toEqual([['alr_0002', 'responder-user']]);
    expect(bulk.json().skipped).toEqual([{ id: 'alr_0003', reason: 'alert is assigned to responder-user' }]);
    const unassign = await post('/v1/alerts/triage', { action: 'unassign', ids: ['alr_0001', 'alr_0002'] });
    expect(unassign.json().skipped).toEqual([{ id: 'alr_0001', reason: 'alert is unassigned' }]);
    expect((await post('/v1/alerts/triage', { action: 'assign', ids: ['alr_0002'] })).statusCode).toBe(400);
    expect((await post('/v1/alerts/triage', { action: 'unassign', ids: ['alr_0002'], assignee: 'x' })).statusCode).toBe(
      400,
    );
    expect((await post('/v1/alerts/triage', { action: 'resolve', ids: ['alr_0002'], assignee: 'x' })).statusCode).toBe(
      400,
    );
  });

  it("taking over: a colleague's alert is a 409 naming them unless takeover, the note says whom from; one's own stays a no-op", async () => {
    const { app, alerts } = await setup();
    for (const i of [1, 2, 3]) await alerts.upsert(alert(i));
    const post = (url: string, payload: unknown, key = KEYS.responder) =>
      app.inject({ method: 'POST', url, headers: { 'x-api-key': key }, payload: payload as Record<string, unknown> });
    // the admin takes alr_0001; the responder tries to take it, or to hand it to a third analyst
    expect((await post('/v1/alerts/alr_0001/assign', { assignee: 'admin-user' }, KEYS.admin)).statusCode).toBe(200);
    for (const assignee of ['responder-user', 'viewer-user']) {
      const refused = await post('/v1/alerts/alr_0001/assign', { assignee, comment: 'mine now' });
      expect(refused.statusCode).toBe(409);
      expect(refused.json()).toEqual({
        code: 'MW_ERR_ALERT_OWNED',
        message: 'the alert is assigned to another analyst: admin-user (send takeover: true to take it over)',
        details: { assignee: 'admin-user' },
      });
    }
    expect(await alerts.get('alr_0001')).toMatchObject({ assignee: 'admin-user' });
    expect((await alerts.notes('alr_0001')).map((n) => n.action)).toEqual(['assign']);

    // said so: taken over, the history says from whom
    const taken = await post('/v1/alerts/alr_0001/assign', {
      assignee: 'responder-user',
      takeover: true,
      comment: 'admin is off today',
    });
    expect(taken.statusCode).toBe(200);
    expect(taken.json()).toMatchObject({ assignee: 'responder-user' });
    expect((await alerts.notes('alr_0001')).at(-1)).toMatchObject({
      actor: 'responder-user',
      action: 'assign',
      assignee: 'responder-user',
      takenOverFrom: 'admin-user',
      comment: 'admin is off today',
    });
    // one's own: assigning it to oneself again changes and notes nothing; handing it on is no takeover
    const before = await alerts.get('alr_0001');
    const again = await post('/v1/alerts/alr_0001/assign', { assignee: 'responder-user' });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(before);
    expect(await alerts.notes('alr_0001')).toHaveLength(2);
    const handed = await post('/v1/alerts/alr_0001/assign', { assignee: 'admin-user' });
    expect(handed.statusCode).toBe(200);
    expect((await alerts.notes('alr_0001')).at(-1)?.takenOverFrom).toBeUndefined();
    // a takeover of nobody's alert is a plain assignment; takeover is a boolean, and goes with assign only
    expect((await post('/v1/alerts/alr_0002/assign', { assignee: 'responder-user', takeover: true })).statusCode).toBe(
      200,
    );
    expect((await alerts.notes('alr_0002')).at(-1)?.takenOverFrom).toBeUndefined();
    expect((await post('/v1/alerts/alr_0002/assign', { assignee: 'x', takeover: 'yes' })).statusCode).toBe(400);

    // in bulk: the colleague's are left with their owner named, then taken over when said so
    await alerts.assign('alr_0003', 'admin-user', 'admin-user');
    const bulk = await post('/v1/alerts/triage', {
      action: 'assign',
      ids: ['alr_0001', 'alr_0002', 'alr_0003'],
      assignee: 'responder-user',
    });
    expect(bulk.json().items.map((a: Alert) => a.id)).toEqual([]);
    expect(bulk.json().skipped).toEqual([
      {
        id: 'alr_0001',
        reason: 'assigned to admin-user, another analyst (takeover takes it over)',
        assignee: 'admin-user',
      },
      { id: 'alr_0002', reason: 'alert is assigned to responder-user' },
      {
        id: 'alr_0003',
        reason: 'assigned to admin-user, another analyst (takeover takes it over)',
        assignee: 'admin-user',
      },
    ]);
    const over = await post('/v1/alerts/triage', {
      action: 'assign',
      ids: ['alr_0001', 'alr_0003'],
      assignee: 'responder-user',
      takeover: true,
    });
    expect(over.json().items.map((a: Alert) => [a.id, a.assignee])).toEqual([
      ['alr_0001', 'responder-user'],
      ['alr_0003', 'responder-user'],
    ]);
    expect((await alerts.notes('alr_0003')).at(-1)).toMatchObject({ takenOverFrom: 'admin-user' });
    expect((await post('/v1/alerts/triage', { action: 'resolve', ids: ['alr_0001'], takeover: true })).statusCode).toBe(
      400,
    );
  });

  it("unassigning: a colleague's alert is a 409 naming them unless takeover, the note says whom from; one's own or nobody's is unaffected", async () => {
    const { app, alerts } = await setup();
    for (const i of [1, 2, 3, 4]) await alerts.upsert(alert(i));
    const post = (url: string, payload: unknown, key = KEYS.responder) =>
      app.inject({ method: 'POST', url, headers: { 'x-api-key': key }, payload: payload as Record<string, unknown> });
    await alerts.assign('alr_0001', 'admin-user', 'admin-user');
    // the responder takes the admin's owner away: refused, naming them, with or without a comment
    for (const body of [null, { comment: 'not theirs' }]) {
      const refused = await post('/v1/alerts/alr_0001/unassign', body);
      expect(refused.statusCode).toBe(409);
      expect(refused.json()).toEqual({
        code: 'MW_ERR_ALERT_OWNED',
        message:
          'the alert is assigned to another analyst: admin-user (send takeover: true to unassign it all the same)',
        details: { assignee: 'admin-user' },
      });
    }
    expect(await alerts.get('alr_0001')).toMatchObject({ assignee: 'admin-user' });
    expect(await alerts.notes('alr_0001')).toHaveLength(1);
    // said so: unassigned, the history says from whom
    const removed = await post('/v1/alerts/alr_0001/unassign', { takeover: true, comment: 'admin is on leave' });
    expect(removed.statusCode).toBe(200);
    expect(removed.json().assignee).toBeUndefined();
    expect((await alerts.notes('alr_0001')).at(-1)).toMatchObject({
      actor: 'responder-user',
      action: 'assign',
      assignee: null,
      takenOverFrom: 'admin-user',
      comment: 'admin is on leave',
    });
    // an admin is no exception: the responder's alert is theirs to unassign only with takeover
    await alerts.assign('alr_0002', 'responder-user', 'responder-user');
    const byAdmin = await post('/v1/alerts/alr_0002/unassign', null, KEYS.admin);
    expect(byAdmin.statusCode).toBe(409);
    expect(byAdmin.json().details).toEqual({ assignee: 'responder-user' });
    // one's own: no takeover needed, nothing said about whom from; nobody's: left as it is, no note
    const own = await post('/v1/alerts/alr_0002/unassign', null);
    expect(own.statusCode).toBe(200);
    expect((await alerts.notes('alr_0002')).at(-1)).toEqual({
      ts: expect.any(Number),
      actor: 'responder-user',
      action: 'assign',
      assignee: null,
    });
    const nobodys = await post('/v1/alerts/alr_0002/unassign', { takeover: true });
    expect(nobodys.statusCode).toBe(200);
    expect(await alerts.notes('alr_0002')).toHaveLength(2);
    for (const bad of [{ takeover: 'yes' }, { assignee: 'x' }])
      expect((await post('/v1/alerts/alr_0002/unassign', bad)).statusCode, JSON.stringify(bad)).toBe(400);

    // in bulk: the colleague's are skipped with their owner named, then unassigned when said so
    await alerts.assign('alr_0003', 'admin-user', 'admin-user');
    await alerts.assign('alr_0004', 'responder-user', 'responder-user');
    const bulk = await post('/v1/alerts/triage', { action: 'unassign', ids: ['alr_0002', 'alr_0003', 'alr_0004'] });
    expect(bulk.json().items.map((a: Alert) => a.id)).toEqual(['alr_0004']);
    expect(bulk.json().skipped).toEqual([
      { id: 'alr_0002', reason: 'alert is unassigned' },
      {
        id: 'alr_0003',
        reason: 'assigned to admin-user, another analyst (takeover unassigns it all the same)',
        assignee: 'admin-user',
      },
    ]);
    expect(await alerts.get('alr_0003')).toMatchObject({ assignee: 'admin-user' });
    const over = await post('/v1/alerts/triage', { action: 'unassign', ids: ['alr_0003'], takeover: true });
    expect(over.json()).toMatchObject({ items: [{ id: 'alr_0003' }], skipped: [] });
    expect(over.json().items[0].assignee).toBeUndefined();
    expect((await alerts.notes('alr_0003')).at(-1)).toMatchObject({ assignee: null, takenOverFrom: 'admin-user' });
  });

  it('silences: a responder creates one (what it covers is resolved), everyone lists them with what they suppressed, a responder ends one early; bad ones are refused', async () => {
    const { app, alerts, store } = await setup();
    // alert(2): enumeration on users; alert(4) the same, acknowledged; alert(6) resolved; alert(1): error_burst
    for (const i of [1, 2, 4, 6]) await alerts.upsert(alert(i));
    await alerts.transition('alr_0004', 'acknowledge', 'someone');
    await alerts.transition('alr_0006', 'resolve', 'someone');
    const call = (method: 'GET' | 'POST', url: string, key: string, payload?: Record<string, unknown>) =>
      app.inject({ method, url, headers: { 'x-api-key': key }, payload });
    const made = await call('POST', '/v1/silences', KEYS.responder, {
      matchers: { kind: 'enumeration', service: 'users' },
      duration_minutes: 120,
      comment: 'pentest, ticket SEC-42',
    });
    expect(made.statusCode).toBe(200);
    const silence = made.json();
    expect(silence).toMatchObject({
      matchers: { kind: 'enumeration', service: 'users' },
      createdBy: 'responder-user',
      active: true,
      resolved: 2,
    });
    expect((await alerts.get('alr_0002'))?.state).toBe('resolved');
    expect((await alerts.get('alr_0004'))?.state).toBe('resolved');
    expect((await alerts.get('alr_0001'))?.state).toBe('open');
    expect((await alerts.notes('alr_0002')).at(-1)).toMatchObject({
      actor: 'responder-user',
      action: 'resolve',
      comment: expect.stringContaining('pentest, ticket SEC-42'),
    });
    expect(await alerts.notes('alr_0006')).toHaveLength(1);
    expect(silence.endsAt - silence.startsAt).toBe(120 * 60_000);
    expect(silence.suppressed).toBe(0);
    const listed = await call('GET', '/v1/silences', KEYS.viewer);
    expect(listed.json().items.map((x: { id: string }) => x.id)).toEqual([silence.id]);
    // what it suppressed since (as the alerts feed counts it, on any replica), with when it last did
    await new SilenceRepository(store).recordSuppressed(new Map([[silence.id, 3]]), 1_700_000_000_000);
    expect((await call('GET', '/v1/silences', KEYS.viewer)).json().items[0]).toMatchObject({
      id: silence.id,
      suppressed: 3,
      lastSuppressedAt: 1_700_000_000_000,
    });
    expect(
      (await call('POST', '/v1/silences', KEYS.viewer, { matchers: { kind: 'x' }, duration_minutes: 5, comment: 'c' }))
        .statusCode,
    ).toBe(403);
    for (const bad of [
      { matchers: {}, duration_minutes: 5, comment: 'c' },
      { matchers: { kind: 'x', colour: 'red' }, duration_minutes: 5, comment: 'c' },
      { matchers: { kind: 'x' }, duration_minutes: 0, comment: 'c' },
      { matchers: { kind: 'x' }, duration_minutes: 60 * 24 * 31, comment: 'c' },
      { matchers: { kind: 'x' }, duration_minutes: 5 },
      { matchers: { max_severity: 'low' }, duration_minutes: 5, comment: 'c' },
      { matchers: { kind: 'x', max_severity: 'huge' }, duration_minutes: 5, comment: 'c' },
    ])
      expect((await call('POST', '/v1/silences', KEYS.responder, bad)).statusCode, JSON.stringify(bad)).toBe(400);
    // a severity ceiling: orders' medium error burst is above low, at medium
    const low = { matchers: { service: 'orders', max_severity: 'low' }, duration_minutes: 5, comment: 'c' };
    expect((await call('POST', '/v1/silences', KEYS.responder, low)).json()).toMatchObject({
      matchers: { service: 'orders', max_severity: 'low' },
      resolved: 0,
    });
    const medium = { ...low, matchers: { service: 'orders', max_severity: 'medium' } };
    expect((await call('POST', '/v1/silences', KEYS.responder, medium)).json().resolved).toBe(1);
    const ended = await call('POST', `/v1/silences/${silence.id}/expire`, KEYS.responder);
    expect(ended.json()).toMatchObject({ id: silence.id, active: false, expiredBy: 'responder-user', suppressed: 3 });
    expect((await call('POST', `/v1/silences/${silence.id}/expire`, KEYS.responder)).statusCode).toBe(409);
    expect((await call('POST', '/v1/silences/sil_nope/expire', KEYS.responder)).statusCode).toBe(404);
  });

  it('accepts OIDC access tokens verified against the JWKS, with the role from a claim', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    const { app } = await setup({
      issuer: 'https://idp.test',
      audience: 'meshward',
      keySet: createLocalJWKSet({ keys: [jwk] }),
    });
    const sign = (claims: Record<string, unknown>, iss = 'https://idp.test') =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(iss)
        .setAudience('meshward')
        .setSubject('analyst-7')
        .setExpirationTime('5m')
        .sign(privateKey);
    const ok = await app.inject({
      url: '/v1/alerts',
      headers: { authorization: `Bearer ${await sign({ meshward_roles: ['viewer'] })}` },
    });
    expect(ok.statusCode).toBe(200);
    const wrongIssuer = await app.inject({
      url: '/v1/alerts',
      headers: { authorization: `Bearer ${await sign({ meshward_roles: ['admin'] }, 'https://evil.test')}` },
    });
    expect(wrongIssuer.statusCode).toBe(401);
    const noRole = await app.inject({ url: '/v1/alerts', headers: { authorization: `Bearer ${await sign({})}` } });
    expect(noRole.statusCode).toBe(403);
    const viewerAck = await app.inject({
      method: 'POST',
      url: '/v1/alerts/x/acknowledge',
      headers: { authorization: `Bearer ${await sign({ meshward_roles: 'viewer' })}` },
    });
    expect(viewerAck.statusCode).toBe(403);

    // the subject id may be opaque: the token's readable name comes along (preferred_username, else email)
    const named = await sign({ meshward_roles: ['responder'], preferred_username: 'ana.souza', email: 'a@x.test' });
    const me = await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${named}` } });
    expect(me.json()).toEqual({ id: 'analyst-7', role: 'responder', via: 'oidc', name: 'ana.souza' });
    const emailOnly = await sign({ meshward_roles: ['viewer'], preferred_username: ' ', email: 'b@x.test' });
    expect((await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${emailOnly}` } })).json().name).toBe(
      'b@x.test',
    );
  });

  it('lists the analysts: every API key, and each principal once it has called, with its name, latest first', async () => {
    let now = 1_000;
    const store = new MemoryStore();
    const auth = new ApiAuthenticator(
      Object.entries(KEYS).map(([role, key]) => ({ name: `${role}-user`, key, role: role as 'viewer' })),
    );
    const directory = new AnalystDirectory(
      store,
      () => auth.keyPrincipals(),
      () => now,
    );
    const ids = async () => (await directory.list()).map((a) => [a.id, a.lastSeen]);
    expect(await ids()).toEqual([
      ['admin-user', undefined],
      ['responder-user', undefined],
      ['viewer-user', undefined],
    ]);
    directory.seen({ id: 'viewer-user', role: 'viewer', via: 'api_key' });
    now = 2_000;
    directory.seen({ id: '00u1a2b3', role: 'responder', via: 'oidc', name: 'kim@corp.test' });
    await new Promise((r) => setTimeout(r, 0));
    expect(await ids()).toEqual([
      ['00u1a2b3', 2_000],
      ['viewer-user', 1_000],
      ['admin-user', undefined],
      ['responder-user', undefined],
    ]);
    expect((await directory.list())[0]).toMatchObject({ name: 'kim@corp.test', role: 'responder', via: 'oidc' });
    // written again only after a while, or when the name or role changed
    now = 3_000;
    directory.seen({ id: 'viewer-user', role: 'viewer', via: 'api_key' });
    directory.seen({ id: '00u1a2b3', role: 'admin', via: 'oidc', name: 'kim@corp.test' });
    await new Promise((r) => setTimeout(r, 0));
    expect(await ids()).toEqual([
      ['00u1a2b3', 3_000],
      ['viewer-user', 1_000],
      ['admin-user', undefined],
      ['responder-user', undefined],
    ]);

    // a key taken out of the keys file is no longer offered; a key's role is the file's
    directory.seen({ id: 'gone-user', role: 'responder', via: 'api_key' });
    directory.seen({ id: 'admin-user', role: 'viewer', via: 'api_key' });
    await new Promise((r) => setTimeout(r, 0));
    const now3 = await directory.list();
    expect(now3.map((a) => a.id)).not.toContain('gone-user');
    expect(now3.find((a) => a.id === 'admin-user')).toMatchObject({ role: 'admin', lastSeen: 3_000 });

    // through the API: a call records its caller
    const { app } = await setup();
    await app.inject({ url: '/v1/alerts', headers: { 'x-api-key': KEYS.responder } });
    await new Promise((r) => setTimeout(r, 0));
    const listed = await app.inject({ url: '/v1/analysts', headers: { 'x-api-key': KEYS.viewer } });
    // the responder's call and the viewer's own listing are on record; the admin key was not used
    const items = listed.json().items as { id: string; lastSeen?: number }[];
    expect(
      items
        .filter((a) => a.lastSeen !== undefined)
        .map((a) => a.id)
        .sort(),
    ).toEqual(['responder-user', 'viewer-user']);
    expect(items.at(-1)).toEqual({ id: 'admin-user', role: 'admin', via: 'api_key' });
  });

  it('streams alert changes as Server-Sent Events to an authenticated viewer', async () => {
    const { app, alerts } = await setup();
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const refused = await fetch(`${base}/v1/alerts/stream`);
      expect(refused.status).toBe(401);
      const res = await fetch(`${base}/v1/alerts/stream`, { headers: { 'x-api-key': KEYS.viewer } });
      expect(res.headers.get('content-type')).toBe('text/event-stream');
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let text = '';
      await alerts.upsert(alert(7));
      while (!text.includes('event: alert')) text += new TextDecoder().decode((await reader.read()).value);
      while (!text.includes('\n\n', text.indexOf('event: alert')))
        text += new TextDecoder().decode((await reader.read()).value);
      const data = /data: (.*)\n/.exec(text.slice(text.indexOf('event: alert')))?.[1] ?? '';
      expect(JSON.parse(data).id).toBe('alr_0007');
      await reader.cancel();
    } finally {
      await app.close();
    }
  });

  it("streams the policy engine's decision changes as `event: decision`, and stops following them when the client goes", async () => {
    const listeners = new Set<(c: { decision: Decision }) => void>();
    const decisions = {
      subscribe(l: (c: { decision: Decision }) => void) {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    };
    const app = await createApiServer({
      auth: new ApiAuthenticator([{ name: 'viewer-user', key: KEYS.viewer, role: 'viewer' }]),
      logger: silentLogger,
      health: () => ({}),
      plugins: [alertRoutes({ alerts: new AlertRepository(new MemoryStore()), decisions })],
    });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const res = await fetch(`${base}/v1/alerts/stream`, { headers: { 'x-api-key': KEYS.viewer } });
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let text = new TextDecoder().decode((await reader.read()).value);
      expect(listeners.size).toBe(1);
      const decision = { id: 'dec_1', value: '192.0.2.1', scope: 'ip', state: 'active' } as unknown as Decision;
      for (const l of listeners) l({ decision });
      const framed = () => {
        const at = text.indexOf('event: decision');
        return at >= 0 && text.includes('\n\n', at);
      };
      while (!framed()) text += new TextDecoder().decode((await reader.read()).value);
      const data = /data: (.*)\n/.exec(text.slice(text.indexOf('event: decision')))?.[1] ?? '';
      expect(JSON.parse(data)).toEqual(decision);
      await reader.cancel();
    } finally {
      await app.close();
    }
    // the stream's end let go of the engine's listener
    await expect.poll(() => listeners.size).toBe(0);
  });

  it("beside the console's files, a path parameter past its limit is the router's 400, not a missing file's 404", async () => {
    const { app } = await setup();
    const key = { 'x-api-key': KEYS.viewer };
    const long = await app.inject({ url: `/v1/alerts/${'a'.repeat(101)}`, headers: key });
    expect([long.statusCode, long.json().code]).toEqual([400, 'MW_ERR_BAD_REQUEST']);
    const missing = await app.inject({ url: '/v1/no-such-route', headers: key });
    expect([missing.statusCode, missing.json().code]).toEqual([404, 'MW_ERR_NOT_FOUND']);
    // the console's files are still served, nested ones included
    for (const url of ['/', '/index.html', '/js/main.js', '/js/pages/alerts.js', '/css/console.css'])
      expect((await app.inject({ url })).statusCode, url).toBe(200);
    expect((await app.inject({ url: '/js/none.js' })).statusCode).toBe(404);
  });

  it('serves the generated OpenAPI document', async () => {
    const { app } = await setup();
    const res = await app.inject({ url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    expect(Object.keys(res.json().paths)).toContain('/v1/alerts');
    // a sorted queue is of the unresolved alerts only, and the docs say so
    const sort = (res.json().paths['/v1/alerts'].get.parameters as { name: string; description?: string }[]).find(
      (p) => p.name === 'sort',
    );
    expect(sort?.description).toContain('with state=open or state=acknowledged only, a 400 otherwise');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis } from '../../test/harness/redis.js';
import { type Alert, SEVERITY_RANK } from '../core/alert.js';
import { MemoryStore } from '../store/memory-store.js';
import { type RedisStore, createRedisStore } from '../store/redis-store.js';
import type { Store } from '../store/store.js';
import { type AlertChange, type AlertFilter, AlertRepository } from './alert-repository.js';
import type { AlertSort } from './alert-sort.js';
import { QUEUE_SORTS, type QueueSort, entryAt, queueIndexKey } from './queue-index.js';

const alert = (id: string, extra: Partial<Alert> = {}): Alert => ({
  v: 1,
  id,
  kind: 'error_burst',
  severity: 'medium',
  state: 'open',
  service: 'orders',
  firstSeen: 1000,
  lastSeen: 2000,
  count: 1,
  summary: `alert ${id}`,
  evidence: { recordIds: [], metrics: {} },
  updatedAt: 2000,
  ...extra,
});

async function until(what: string, fn: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** two API replicas: each stores part of the alerts (shared consumer group), analysts triage on either */
async function replicasShareChanges(storeA: Store, storeB: Store): Promise<void> {
  const a = new AlertRepository(storeA);
  const b = new AlertRepository(storeB);
  const stopA = await a.follow();
  const stopB = await b.follow();
  const seenA: AlertChange[] = [];
  const seenB: AlertChange[] = [];
  a.on('change', (c) => seenA.push(c));
  b.on('change', (c) => seenB.push(c));

  await a.upsert(alert('alr_1'));
  await until("replica B hears A's upsert", () => seenB.length === 1);
  expect(seenB[0].alert).toMatchObject({ id: 'alr_1', state: 'open' });
  expect(seenA).toHaveLength(1); // its own change once, not echoed back

  await b.transition('alr_1', 'acknowledge', 'ana');
  await until("replica A hears B's acknowledgement", () => seenA.length === 2);
  expect(seenA[1].alert).toMatchObject({ id: 'alr_1', state: 'acknowledged' });
  expect(seenB).toHaveLength(2);

  await stopB();
  await a.upsert(alert('alr_2'));
  await new Promise((r) => setTimeout(r, 100));
  expect(seenB).toHaveLength(2);
  await stopA();
}

/**
 * Replica A refreshes an alert from the correlator while, between A's read and A's write, an analyst acknowledges it
 * on replica B: A must notice and merge (the acknowledgement stays), not write over it.
 */
async function acknowledgementSurvivesARace(storeA: Store, storeB: Store): Promise<void> {
  const b = new AlertRepository(storeB);
  let interleaved = false;
  const racing: Store = Object.create(storeA, {
    get: {
      value: async (key: string) => {
        const raw = await storeA.get(key);
        if (!interleaved && key === 'alert:alr_race') {
          interleaved = true;
          await b.transition('alr_race', 'acknowledge', 'ana');
        }
        return raw;
      },
    },
  });
  const a = new AlertRepository(racing);
  await new AlertRepository(storeA).upsert(alert('alr_race'));
  const merged = await a.upsert(alert('alr_race', { count: 2, lastSeen: 3000, updatedAt: 3000 }));
  expect(interleaved).toBe(true);
  expect(merged).toMatchObject({ state: 'acknowledged', count: 2 });
  expect(await b.get('alr_race')).toMatchObject({ state: 'acknowledged', count: 2 });
}

/**
 * Two analysts take the same unowned alert at once on two replicas: B's assignment lands between A's read and A's
 * write. A must not replace B without a word: it reads again and is refused, naming B
 */
async function simultaneousTakersDoNotReplaceEachOther(storeA: Store, storeB: Store): Promise<void> {
  const b = new AlertRepository(storeB);
  let interleaved = false;
  const racing: Store = Object.create(storeA, {
    get: {
      value: async (key: string) => {
        const raw = await storeA.get(key);
        if (!interleaved && key === 'alert:alr_take') {
          interleaved = true;
          await b.assign('alr_take', 'bo', 'bo');
        }
        return raw;
      },
    },
  });
  await b.upsert(alert('alr_take'));
  const a = new AlertRepository(racing);
  await expect(a.assign('alr_take', 'ana', 'ana')).rejects.toMatchObject({
    code: 'MW_ERR_ALERT_OWNED',
    details: { assignee: 'bo' },
  });
  expect(interleaved).toBe(true);
  expect(await b.get('alr_take')).toMatchObject({ assignee: 'bo' });
  expect((await b.notes('alr_take')).map((n) => [n.actor, n.assignee])).toEqual([['bo', 'bo']]);
}

const DAY = 86_400_000;

/** retention deletes old resolved alerts, then any too old, then the least recently seen past the cap */
async function retentionDeletes(store: Store): Promise<void> {
  const repo = new AlertRepository(store);
  const now = 400 * DAY;
  const at = (days: number) => now - days * DAY;
  await repo.upsert(alert('alr_resolved_old', { state: 'resolved', lastSeen: at(40), updatedAt: at(40) }));
  await repo.addNote('alr_resolved_old', { ts: at(40), actor: 'ana', action: 'resolve', comment: 'fixed' });
  // resolved long after it was last seen: its age runs from that change
  await repo.upsert(alert('alr_resolved_lately', { state: 'resolved', lastSeen: at(40), updatedAt: at(1) }));
  await repo.upsert(alert('alr_open_old', { lastSeen: at(45), updatedAt: at(45) }));
  await repo.upsert(alert('alr_open_stale', { lastSeen: at(70), updatedAt: at(70) }));
  await repo.upsert(alert('alr_resolved_new', { state: 'resolved', lastSeen: at(1), updatedAt: at(1) }));
  await repo.upsert(alert('alr_open_new', { lastSeen: at(2), updatedAt: at(2) }));

  const retention = { resolvedMaxAgeMs: 30 * DAY, maxAgeMs: 60 * DAY, maxAlerts: 3 };
  expect(await repo.prune(retention, now)).toEqual({ resolved: 1, stale: 1, overflow: 1 });
  // the cap took the least recently seen of the four left: the open alert of 45 days
  expect((await repo.list()).items.map((a) => a.id)).toEqual([
    'alr_resolved_new',
    'alr_open_new',
    'alr_resolved_lately',
  ]);
  for (const gone of ['alr_resolved_old', 'alr_open_stale', 'alr_open_old']) expect(await repo.get(gone)).toBeNull();
  expect(await repo.notes('alr_resolved_old')).toEqual([]);
  expect(await repo.prune(retention, now)).toEqual({ resolved: 0, stale: 0, overflow: 0 });
  // a new occurrence of a deleted alert is stored afresh
  await repo.upsert(alert('alr_open_stale', { lastSeen: at(0), updatedAt: at(0), count: 2 }));
  expect((await repo.list({}, 1)).items[0]).toMatchObject({ id: 'alr_open_stale', state: 'open', count: 2 });
}

/** the open queue reads the index of unresolved alerts, built at start for a store written before it */
async function queueReadsTheLiveIndex(store: Store): Promise<void> {
  const old = new AlertRepository(store);
  for (let i = 0; i < 6; i++) await old.upsert(alert(`alr_q${i}`, { lastSeen: 10_000 + i, updatedAt: 10_000 + i }));
  await old.transition('alr_q1', 'resolve', 'ana');
  // as a store from before the index: its alerts are not in it
  await store.del('alerts:live-by-time');
  await store.del('alerts:live-indexed');
  const repo = new AlertRepository(store);
  await repo.buildIndexes();
  const ids = async (state: Alert['state']) => (await repo.list({ state }, 50)).items.map((a) => a.id);
  expect(await ids('open')).toEqual(['alr_q5', 'alr_q4', 'alr_q3', 'alr_q2', 'alr_q0']);
  await repo.transition('alr_q3', 'acknowledge', 'ana');
  await repo.transition('alr_q4', 'resolve', 'ana');
  await repo.transition('alr_q1', 'reopen', 'ana');
  // a silence stores a refresh resolved
  await repo.upsert(alert('alr_q0', { lastSeen: 20_000, updatedAt: 20_000, count: 2 }), {
    resolveWith: { ts: 1, actor: 'ana', action: 'resolve' },
  });
  expect(await ids('open')).toEqual(['alr_q5', 'alr_q2', 'alr_q1']);
  expect(await ids('acknowledged')).toEqual(['alr_q3']);
  expect(await ids('resolved')).toEqual(['alr_q0', 'alr_q4']);
  // paging through the index, as through every alert
  const first = await repo.list({ state: 'open' }, 2);
  expect(first.items.map((a) => a.id)).toEqual(['alr_q5', 'alr_q2']);
  expect((await repo.list({ state: 'open' }, 2, first.next)).items.map((a) => a.id)).toEqual(['alr_q1']);
  // a copy left in the index by a racing write is not listed under a state it no longer has
  await store.zadd('alerts:live-by-time', 10_004, 'alr_q4');
  expect(await ids('open')).toEqual(['alr_q5', 'alr_q2', 'alr_q1']);
  // the queue is read from the index, not from every alert
  await store.zrem('alerts:live-by-time', 'alr_q2');
  expect(await ids('open')).toEqual(['alr_q5', 'alr_q1']);
  await store.zadd('alerts:live-by-time', 10_002, 'alr_q2');
  // a second start finds it built
  const again = new AlertRepository(store);
  await again.buildIndexes();
  expect((await again.list({ state: 'open' })).items.map((a) => a.id)).toEqual(['alr_q5', 'alr_q2', 'alr_q1']);
}

/**
 * the open queue sorted by severity, count or first seen, each highest first then newest, paged with a cursor that
 * walks every matching alert once; resolved alerts are not in it, and sorting every alert is refused
 */
async function sortsTheQueue(store: Store): Promise<void> {
  const old = new AlertRepository(store);
  const severities = ['low', 'critical', 'medium', 'high', 'medium', 'info'] as const;
  for (let i = 0; i < 40; i++)
    await old.upsert(
      alert(`alr_s${String(i).padStart(2, '0')}`, {
        severity: severities[i % severities.length],
        count: 1 + ((i * 7) % 5),
        firstSeen: 1000 + ((i * 13) % 17),
        // pairs seen at the same time: ties on every key but the id
        lastSeen: 5000 + Math.floor(i / 2),
        updatedAt: 5000 + i,
        service: i % 4 === 0 ? 'users' : 'orders',
      }),
    );
  // twins on every key but the id: a page may end between them
  for (const id of ['alr_twin_a', 'alr_twin_b'])
    await old.upsert(alert(id, { severity: 'info', count: 99, firstSeen: 900, lastSeen: 4000, updatedAt: 4000 }));
  for (const i of [3, 11]) await old.transition(`alr_s${String(i).padStart(2, '0')}`, 'resolve', 'ana');
  await old.transition('alr_s05', 'acknowledge', 'ana');
  // a store from before the indexes of unresolved alerts: the first sorted list builds them
  await store.del('alerts:live-by-time');
  await store.del('alerts:live-indexed');
  await forgetQueueIndexes(store);
  const repo = new AlertRepository(store);

  // readable: the critical ones first, newest first among them; the same severity by lastSeen, then id
  const firstPage = await repo.list({ state: 'open' }, 9, undefined, 'severity');
  expect(firstPage.items.map((a) => `${a.severity} ${a.id}`)).toEqual([
    'critical alr_s37',
    'critical alr_s31',
    'critical alr_s25',
    'critical alr_s19',
    'critical alr_s13',
    'critical alr_s07',
    'critical alr_s01',
    'high alr_s39',
    'high alr_s33',
  ]);
  expect(firstPage.next).toBe('severity:3:5016:alr_s33');

  const twin = await repo.list({ state: 'open' }, 1, undefined, 'count');
  expect(twin).toEqual({ items: [expect.objectContaining({ id: 'alr_twin_b' })], next: 'count:99:4000:alr_twin_b' });
  expect((await repo.list({ state: 'open' }, 1, twin.next, 'count')).items[0].id).toBe('alr_twin_a');

  const rank: Record<AlertSort, (a: Alert) => number> = {
    severity: (a) => SEVERITY_RANK[a.severity],
    count: (a) => a.count,
    first_seen: (a) => a.firstSeen,
    last_seen: (a) => a.lastSeen,
  };
  for (const sort of ['severity', 'count', 'first_seen'] as const) {
    for (const filter of [{ state: 'open' as const }, { state: 'open' as const, service: 'orders' }]) {
      const walked: Alert[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 20; page++) {
        const r = await repo.list(filter, 4, cursor, sort);
        walked.push(...r.items);
        cursor = r.next;
        if (!cursor) break;
      }
      const expected = (await repo.list(filter, 500)).items.map((a) => a.id).sort();
      expect(walked.map((a) => a.id).sort(), `${sort} ${JSON.stringify(filter)}`).toEqual(expected);
      for (let i = 1; i < walked.length; i++) {
        const [x, y] = [walked[i - 1], walked[i]];
        const order = rank[sort](x) - rank[sort](y) || x.lastSeen - y.lastSeen || (x.id > y.id ? 1 : -1);
        expect(order, `${sort}: ${x.id} before ${y.id}`).toBeGreaterThan(0);
      }
    }
  }
  // the acknowledged queue too; lastSeen bounds hold
  expect((await repo.list({ state: 'acknowledged' }, 10, undefined, 'count')).items.map((a) => a.id)).toEqual([
    'alr_s05',
  ]);
  const recent = await repo.list({ state: 'open', from: 5018 }, 50, undefined, 'count');
  expect(recent.items.map((a) => a.id).sort()).toEqual(['alr_s36', 'alr_s37', 'alr_s38', 'alr_s39']);
  // every alert, or the resolved ones, would need them all read: refused, as is a cursor of another order
  for (const state of [undefined, 'resolved' as const])
    await expect(repo.list({ state }, 10, undefined, 'severity')).rejects.toMatchObject({
      code: 'MW_ERR_BAD_REQUEST',
      message: expect.stringContaining('sort=severity lists the open or acknowledged alerts'),
    });
  await expect(repo.list({ state: 'open' }, 10, firstPage.next, 'count')).rejects.toMatchObject({
    message: expect.stringContaining('the cursor is of sort=severity, not sort=count'),
  });
  for (const bad of ['5016:alr_s33', 'severity:x:1:a', 'severity:3:5016'])
    await expect(repo.list({ state: 'open' }, 10, bad, 'severity'), bad).rejects.toMatchObject({
      code: 'MW_ERR_BAD_REQUEST',
    });
}

/** as a store written before the queue's indexes: none of them, nor the mark that they are built */
async function forgetQueueIndexes(store: Store): Promise<void> {
  await store.del('alerts:queue-indexed');
  for (const sort of QUEUE_SORTS) await store.del(queueIndexKey(sort));
}

const PRIMARY: Record<QueueSort, (a: Alert) => number> = {
  severity: (a) => SEVERITY_RANK[a.severity],
  count: (a) => a.count,
  first_seen: (a) => a.firstSeen,
};

/**
 * every page of the queue sorted by `sort` as the repository gives them, and as sorting every stored alert gives
 * them (the order, page breaks and cursors the queue had before it kept indexes: highest first, then newest, then by
 * id, a cursor `<sort>:<key>:<lastSeen>:<id>` after each page but the last)
 */
async function pagesAndExpected(
  repo: AlertRepository,
  filter: AlertFilter,
  sort: QueueSort,
  limit: number,
): Promise<{ got: string[][]; expected: string[][] }> {
  const got: string[][] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 200; page++) {
    const r = await repo.list(filter, limit, cursor, sort);
    got.push([...r.items.map((a) => a.id), r.next ?? 'end']);
    cursor = r.next;
    if (!cursor) break;
  }
  const every = (await repo.list({}, 500)).items;
  const { minSeverity, severity, kind, service, state, assignee, from, to } = filter;
  const queue = every
    .filter(
      (a) =>
        a.state === state &&
        (!severity || a.severity === severity) &&
        (!minSeverity || SEVERITY_RANK[a.severity] >= SEVERITY_RANK[minSeverity]) &&
        (!kind || a.kind === kind) &&
        (!service || a.service === service) &&
        (!assignee || a.assignee === assignee) &&
        (from === undefined || a.lastSeen >= from) &&
        (to === undefined || a.lastSeen <= to),
    )
    .sort(
      (x, y) =>
        PRIMARY[sort](y) - PRIMARY[sort](x) || y.lastSeen - x.lastSeen || (y.id < x.id ? -1 : y.id > x.id ? 1 : 0),
    );
  const expected: string[][] = [];
  for (let i = 0; i === 0 || i < queue.length; i += limit) {
    const page = queue.slice(i, i + limit);
    const last = page[page.length - 1];
    expected.push([
      ...page.map((a) => a.id),
      i + limit < queue.length ? `${sort}:${PRIMARY[sort](last)}:${last.lastSeen}:${last.id}` : 'end',
    ]);
  }
  return { got, expected };
}

/**
 * the queue's indexes follow every change: correlator refreshes (new alerts, more occurrences, a severity raised or
 * lowered, resolved once quiet, reopened), analysts' acknowledge, resolve, reopen and owners, and retention's
 * deletes. After each round of random changes, every order's pages (filtered and not, several page sizes) are those
 * of sorting every stored alert
 */
async function queueIndexesFollowChanges(store: Store, seed: number): Promise<void> {
  const repo = new AlertRepository(store);
  await repo.buildIndexes();
  let x = seed;
  // mulberry32
  const rand = (n: number) => {
    x = (x + 0x6d2b79f5) | 0;
    let t = Math.imul(x ^ (x >>> 15), 1 | x);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
  const severities = ['info', 'low', 'medium', 'high', 'critical'] as const;
  const kinds = ['error_burst', 'enumeration', 'shadow_api'] as const;
  let now = 10_000;
  for (let round = 0; round < 4; round++) {
    for (let op = 0; op < 80; op++) {
      now += rand(3); // ties on lastSeen now and then
      const id = `alr_${String(rand(40)).padStart(2, '0')}`;
      const current = await repo.get(id);
      const roll = rand(10);
      if (!current || roll < 4) {
        // a correlator refresh: more occurrences, its severity as the detector sees it now, resolved once quiet
        await repo.upsert(
          alert(id, {
            kind: current?.kind ?? kinds[rand(kinds.length)],
            service: current?.service ?? (rand(2) ? 'orders' : 'users'),
            severity: severities[rand(severities.length)],
            count: (current?.count ?? 0) + 1 + rand(3),
            firstSeen: current?.firstSeen ?? now - rand(50),
            lastSeen: now,
            updatedAt: now,
            state: rand(8) === 0 ? 'resolved' : 'open',
          }),
        );
      } else if (roll === 4 && current.state === 'open') await repo.transition(id, 'acknowledge', 'ana');
      else if (roll === 5 && current.state !== 'resolved') await repo.transition(id, 'resolve', 'ana');
      else if (roll === 6 && current.state !== 'open') await repo.transition(id, 'reopen', 'ana');
      else if (roll === 7) await repo.assign(id, rand(2) ? 'ana' : null, 'ana', undefined, { takeover: true });
      else if (roll === 8) await repo.comment(id, 'bo', 'looked');
    }
    // retention deletes the least recently seen past a cap
    await repo.prune({ resolvedMaxAgeMs: 1e12, maxAgeMs: 1e12, maxAlerts: 30 }, now);
    // both queues hold several alerts (the seeds give 16-25 open, 1-8 acknowledged)
    const all = (await repo.list({}, 500)).items;
    expect(all.filter((a) => a.state === 'open').length).toBeGreaterThan(10);
    expect(all.filter((a) => a.state === 'acknowledged').length).toBeGreaterThan(0);
    const filters: AlertFilter[] = [
      { state: 'open' },
      { state: 'acknowledged' },
      { state: 'open', service: 'orders' },
      { state: 'open', minSeverity: 'high' },
      { state: 'open', severity: 'medium', kind: 'enumeration' },
      { state: 'open', assignee: 'ana', from: now - 100 },
    ];
    for (const sort of QUEUE_SORTS)
      for (const filter of filters)
        for (const limit of [1, 3, 50]) {
          const { got, expected } = await pagesAndExpected(repo, filter, sort, limit);
          expect(got, `round ${round}, ${sort} ${JSON.stringify(filter)} limit ${limit}`).toEqual(expected);
        }
  }
}

/**
 * A correlator refresh lowers an alert's severity on replica A while, between A's write of the alert and A's write
 * of its queue entries, replica B raises it again and indexes that: A's entries land last, so A must read the alert
 * again and index it as it stays (else the queue lists it nowhere: its entry would not match the stored alert)
 */
async function queueIndexSurvivesARace(storeA: Store, storeB: Store): Promise<void> {
  const b = new AlertRepository(storeB);
  await b.buildIndexes(); // as the API at start: the queue's indexes are then kept, not rebuilt by a list
  // a kind of its own: the Redis tests share one store
  const raced = (extra: Partial<Alert>) => alert('alr_qrace', { kind: 'token_mismatch', ...extra });
  await b.upsert(raced({ severity: 'high', count: 1 }));
  let interleaved = false;
  const racing: Store = Object.create(storeA, {
    lexIndexSet: {
      value: async (index: string, id: string, entry: string | null) => {
        if (!interleaved && id === 'alr_qrace') {
          interleaved = true;
          await b.upsert(raced({ severity: 'critical', count: 3, lastSeen: 4000, updatedAt: 4000 }));
        }
        return storeA.lexIndexSet(index, id, entry);
      },
    },
  });
  const a = new AlertRepository(racing);
  await a.upsert(raced({ severity: 'low', count: 2, lastSeen: 3000, updatedAt: 3000 }));
  expect(interleaved).toBe(true);
  expect(await b.get('alr_qrace')).toMatchObject({ severity: 'critical', count: 3 });
  for (const sort of QUEUE_SORTS)
    expect(
      (await b.list({ state: 'open', kind: 'token_mismatch' }, 50, undefined, sort)).items.map(
        (x) => `${x.severity} ${x.id}`,
      ),
    ).toEqual(['critical alr_qrace']);
}

describe('AlertRepository history', () => {
  it('notes the states the correlators change, so a resolved alert back in the queue says why', async () => {
    const repo = new AlertRepository(new MemoryStore());
    await repo.upsert(alert('alr_h'));
    await repo.transition('alr_h', 'resolve', 'ana', 'a retry storm, fixed');
    // the correlator's next refresh brings new occurrences: it is open again
    await repo.upsert(alert('alr_h', { count: 3, lastSeen: 5000, updatedAt: 5000 }));
    // then quiet: the correlator resolves it
    await repo.upsert(alert('alr_h', { state: 'resolved', count: 3, lastSeen: 5000, updatedAt: 9000 }));
    // a refresh that changes no state adds nothing
    await repo.upsert(alert('alr_h', { state: 'resolved', count: 3, lastSeen: 5000, updatedAt: 9500 }));
    expect((await repo.notes('alr_h')).map(({ actor, action, comment }) => ({ actor, action, comment }))).toEqual([
      { actor: 'ana', action: 'resolve', comment: 'a retry storm, fixed' },
      { actor: 'meshward', action: 'reopen', comment: 'fired again after it was resolved (2 more occurrences)' },
      { actor: 'meshward', action: 'resolve', comment: 'the condition stopped: no new occurrence for a while' },
    ]);
  });
});

describe('AlertRepository unresolved', () => {
  it('reads the open and acknowledged alerts, most recently seen first, at most as many as asked', async () => {
    const repo = new AlertRepository(new MemoryStore());
    for (const [id, lastSeen] of [
      ['alr_u1', 2000],
      ['alr_u2', 4000],
      ['alr_u3', 3000],
      ['alr_u4', 5000],
    ] as const)
      await repo.upsert(alert(id, { lastSeen, updatedAt: lastSeen }));
    await repo.transition('alr_u3', 'acknowledge', 'ana');
    await repo.transition('alr_u4', 'resolve', 'ana');
    expect((await repo.unresolved(10)).map((a) => `${a.id} ${a.state}`)).toEqual([
      'alr_u2 open',
      'alr_u3 acknowledged',
      'alr_u1 open',
    ]);
    expect((await repo.unresolved(2)).map((a) => a.id)).toEqual(['alr_u2', 'alr_u3']);
  });
});

describe('AlertRepository live changes across replicas', () => {
  it("keeps an acknowledgement made between another replica's read and write (embedded store)", async () => {
    const store = new MemoryStore();
    await acknowledgementSurvivesARace(store, store);
  });

  it('two analysts taking one alert at once: the second is refused, naming the first (embedded store)', async () => {
    const store = new MemoryStore();
    await simultaneousTakersDoNotReplaceEachOther(store, store);
  });

  it('in one process on the embedded store', async () => {
    const store = new MemoryStore();
    await replicasShareChanges(store, store);
    await store.close();
  });

  it('the open queue reads the index of unresolved alerts (embedded store)', async () => {
    await queueReadsTheLiveIndex(new MemoryStore());
  });

  it('sorts the open queue by severity, count or first seen, paging with the sort in the cursor (embedded store)', async () => {
    await sortsTheQueue(new MemoryStore());
  });

  it('the sorted queue follows inserts, refreshes, triage and deletes: pages as sorting every alert gives them (embedded store)', async () => {
    for (const seed of [1, 7, 23]) await queueIndexesFollowChanges(new MemoryStore(), seed);
  });

  it('the sorted queue indexes an alert as it stays when another replica changes it mid-write (embedded store)', async () => {
    const store = new MemoryStore();
    await queueIndexSurvivesARace(store, store);
  });

  it('the sorted queue reads its index, not every unresolved alert: an entry whose alert is elsewhere is passed over', async () => {
    const store = new MemoryStore();
    const repo = new AlertRepository(store);
    await repo.buildIndexes();
    await repo.upsert(alert('alr_a', { count: 5 }));
    await repo.upsert(alert('alr_b', { count: 3 }));
    const counts = async () => (await repo.list({ state: 'open' }, 10, undefined, 'count')).items.map((a) => a.id);
    expect(await counts()).toEqual(['alr_a', 'alr_b']);
    // an entry removed behind the repository's back: the alert is not found by reading every alert
    await store.lexIndexSet(queueIndexKey('count'), 'alr_b', null);
    expect(await counts()).toEqual(['alr_a']);
    // an entry left where its alert no longer sorts (a racing write not yet indexed): not listed from there
    await store.lexIndexSet(queueIndexKey('count'), 'alr_b', entryAt('open', [99, 2000, 'alr_b']));
    expect(await counts()).toEqual(['alr_a']);
  });

  it('tells the alerts no analyst has acted on, whatever the correlators did with them', async () => {
    const repo = new AlertRepository(new MemoryStore());
    await repo.upsert(alert('alr_quiet', { severity: 'high' }));
    await repo.upsert(alert('alr_noted'));
    await repo.upsert(alert('alr_silenced'));
    // the correlators resolve one once its condition stopped: nobody saw it
    await repo.upsert(alert('alr_quiet', { severity: 'high', state: 'resolved', updatedAt: 3000 }));
    await repo.comment('alr_noted', 'ana', 'looked, benign');
    await repo.upsert(alert('alr_silenced', { updatedAt: 3000, count: 2 }), {
      resolveWith: { ts: 3000, actor: 'ana', action: 'resolve', comment: 'silenced' },
    });
    const untriaged = async (state?: Alert['state']) =>
      (await repo.list({ untriaged: true, state })).items.map((a) => a.id);
    expect(await untriaged()).toEqual(['alr_quiet']);
    expect(await untriaged('resolved')).toEqual(['alr_quiet']);
    const noted = await repo.get('alr_noted');
    expect(noted?.triagedAt).toBeGreaterThan(0);
    // a refresh keeps it triaged, also when it opens the alert again
    await repo.upsert(alert('alr_noted', { updatedAt: Date.now() + 1000, count: 5 }));
    expect((await repo.get('alr_noted'))?.triagedAt).toBe(noted?.triagedAt);
  });

  it('retention deletes old alerts with their notes (embedded store)', async () => {
    await retentionDeletes(new MemoryStore());
  });

  it('retention reads past more kept alerts than one step reads', async () => {
    const repo = new AlertRepository(new MemoryStore());
    const now = 400 * DAY;
    for (let i = 0; i < 1200; i++)
      await repo.upsert(alert(`alr_kept_${i}`, { lastSeen: now - 50 * DAY + i, updatedAt: now - 50 * DAY + i }));
    await repo.upsert(alert('alr_done', { state: 'resolved', lastSeen: now - 31 * DAY, updatedAt: now - 31 * DAY }));
    const retention = { resolvedMaxAgeMs: 30 * DAY, maxAgeMs: 60 * DAY, maxAlerts: 100_000 };
    expect(await repo.prune(retention, now)).toEqual({ resolved: 1, stale: 0, overflow: 0 });
    expect(await repo.get('alr_done')).toBeNull();
  });

  describe('on Redis', () => {
    let server: RedisServer;
    let stores: RedisStore[] = [];
    beforeAll(async () => {
      server = await startRedis();
      stores = [
        createRedisStore({ url: server.url, keyPrefix: 'mw:' }),
        createRedisStore({ url: server.url, keyPrefix: 'mw:' }),
      ];
    });
    afterAll(async () => {
      for (const s of stores) await s.close();
      await server?.stop();
    });

    it("a change made through one store reaches the other replica's live stream", async () => {
      await replicasShareChanges(stores[0], stores[1]);
    });

    it("keeps an acknowledgement made between another replica's read and write", async () => {
      await acknowledgementSurvivesARace(stores[0], stores[1]);
    });

    it('two analysts taking one alert at once: the second is refused, naming the first', async () => {
      await simultaneousTakersDoNotReplaceEachOther(stores[0], stores[1]);
    });

    it('the open queue reads the index of unresolved alerts', async () => {
      const store = createRedisStore({ url: server.url, keyPrefix: 'mw-live:' });
      stores.push(store);
      await queueReadsTheLiveIndex(store);
    });

    it('sorts the open queue by severity, count or first seen, paging with the sort in the cursor', async () => {
      const store = createRedisStore({ url: server.url, keyPrefix: 'mw-sorted:' });
      stores.push(store);
      await sortsTheQueue(store);
    });

    it('the sorted queue follows inserts, refreshes, triage and deletes: pages as sorting every alert gives them', async () => {
      const store = createRedisStore({ url: server.url, keyPrefix: 'mw-queue:' });
      stores.push(store);
      await queueIndexesFollowChanges(store, 7);
    });

    it('the sorted queue indexes an alert as it stays when another replica changes it mid-write', async () => {
      await queueIndexSurvivesARace(stores[0], stores[1]);
    });

    it('retention deletes old alerts with their notes', async () => {
      const store = createRedisStore({ url: server.url, keyPrefix: 'mw-retention:' });
      stores.push(store);
      await retentionDeletes(store);
    });

    it('a change whose announcement was lost reaches the other replica from the changes log, once', async () => {
      const store = createRedisStore({ url: server.url, keyPrefix: 'mw-lost:' });
      stores.push(store);
      // replica A's pub/sub loses everything (B's subscription reconnecting, a publish that failed)
      const lossy = new Proxy(store, {
        get(target, prop, receiver) {
          if (prop === 'publish') return async () => {};
          const v = Reflect.get(target, prop, receiver);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
      const a = new AlertRepository(lossy);
      const b = new AlertRepository(store);
      const stop = await b.follow({ catchUpMs: 20 });
      const seen: AlertChange[] = [];
      b.on('change', (c) => seen.push(c));
      await a.upsert(alert('alr_lost'));
      await until('the change from the log', () => seen.length === 1);
      await a.upsert(alert('alr_lost', { count: 2, updatedAt: 3000 }));
      await until('the next one', () => seen.length === 2);
      await new Promise((r) => setTimeout(r, 100));
      expect(seen.map((c) => c.alert.count)).toEqual([1, 2]);
      await stop();
    });

    it('ignores announcements that are not alerts', async () => {
      const repo = new AlertRepository(stores[1]);
      const stop = await repo.follow();
      const seen: AlertChange[] = [];
      repo.on('change', (c) => seen.push(c));
      await stores[0].publish('alerts:changes', 'not json');
      await stores[0].publish('alerts:changes', JSON.stringify({ from: 'x', alert: { nope: 1 } }));
      await new AlertRepository(stores[0]).upsert(alert('alr_9'));
      await until('the real change', () => seen.length === 1);
      expect(seen[0].alert.id).toBe('alr_9');
      await stop();
    });
  });
});

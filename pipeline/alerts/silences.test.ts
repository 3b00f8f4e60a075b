import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { followAlerts } from '../app/roles.js';
import { type Bus, TOPICS } from '../bus/bus.js';
import { MemoryBus } from '../bus/memory-bus.js';
import type { Alert } from '../core/alert.js';
import { silentLogger } from '../core/logger.js';
import { compileSinks, runSink } from '../sinks/sink-runner.js';
import { waitFor } from '../../test/harness/pipeline-client.js';
import { forwardedAlertIds } from '../../test/harness/captured-bus.js';
import { MemoryStore } from '../store/memory-store.js';
import { AlertRepository } from './alert-repository.js';
import { SilenceRepository, silenceMatches } from './silences.js';

const HOUR = 3_600_000;

const alert = (id: string, over: Partial<Alert> = {}): Alert => ({
  v: 1,
  id,
  kind: 'enumeration',
  severity: 'medium',
  state: 'open',
  service: 'accounts',
  endpoint: 'GET /accounts/{id}',
  subject: { type: 'ip', value: '198.51.100.7' },
  firstSeen: 1000,
  lastSeen: 1000,
  count: 1,
  summary: `enumeration ${id}`,
  evidence: { recordIds: [], metrics: {} },
  updatedAt: 1000,
  ...over,
});

/** the harness's poll, at the pace of an in-process bus */
const soon = <T>(what: string, check: () => Promise<T | undefined> | T | undefined) => waitFor(what, check, 5_000, 10);

describe('SilenceRepository', () => {
  it('matches alerts on every matcher given, while it lasts; ends early; lists active ones first', async () => {
    let now = 10 * HOUR;
    const silences = new SilenceRepository(new MemoryStore(), () => now);
    const pentest = await silences.create(
      {
        matchers: { kind: 'enumeration', subject: '198.51.100.7', endpoint: '' },
        durationMs: HOUR,
        comment: ' pentest ',
      },
      'ana',
    );
    expect(pentest).toMatchObject({
      matchers: { kind: 'enumeration', subject: '198.51.100.7' },
      startsAt: now,
      endsAt: now + HOUR,
      createdBy: 'ana',
      comment: 'pentest',
    });
    expect(silenceMatches(pentest, alert('a'))).toBe(true);
    expect(silenceMatches(pentest, alert('b', { subject: { type: 'ip', value: '203.0.113.1' } }))).toBe(false);
    expect(silenceMatches(pentest, alert('c', { kind: 'credential_stuffing' }))).toBe(false);
    expect(silenceMatches(pentest, alert('d', { subject: undefined }))).toBe(false);
    expect((await silences.matching(alert('a')))?.id).toBe(pentest.id);

    const orders = await silences.create(
      { matchers: { service: 'orders' }, durationMs: 2 * HOUR, comment: 'load test' },
      'bo',
    );
    now += HOUR; // the pentest silence has ended
    expect(await silences.matching(alert('a'))).toBeUndefined();
    expect((await silences.matching(alert('e', { service: 'orders', kind: 'error_burst' })))?.id).toBe(orders.id);
    expect((await silences.list()).map((s) => s.id)).toEqual([orders.id, pentest.id]);

    expect(await silences.expire(orders.id, 'cy')).toMatchObject({ endsAt: now, expiredBy: 'cy' });
    expect(await silences.matching(alert('e', { service: 'orders' }))).toBeUndefined();
    await expect(silences.expire(orders.id, 'cy')).rejects.toMatchObject({ code: 'MW_ERR_CONFLICT' });
    await expect(silences.expire('sil_nope', 'cy')).rejects.toMatchObject({ code: 'MW_ERR_NOT_FOUND' });

    // a severity ceiling: the noisy client's medium alerts are quiet, its high and critical ones are not; a ceiling
    // alone says nothing of which alerts
    const noisy = await silences.create(
      { matchers: { subject: '198.51.100.7', max_severity: 'medium' }, durationMs: HOUR, comment: 'noisy scanner' },
      'ana',
    );
    expect(silenceMatches(noisy, alert('f', { severity: 'low' }))).toBe(true);
    expect(silenceMatches(noisy, alert('g', { severity: 'medium' }))).toBe(true);
    expect(silenceMatches(noisy, alert('h', { severity: 'high' }))).toBe(false);
    expect(silenceMatches(noisy, alert('i', { severity: 'low', subject: undefined }))).toBe(false);
    await expect(
      silences.create({ matchers: { max_severity: 'low' }, durationMs: HOUR, comment: 'x' }, 'ana'),
    ).rejects.toMatchObject({ code: 'MW_ERR_BAD_REQUEST' });
    await silences.expire(noisy.id, 'ana');

    // silences ended more than a week ago are forgotten at the next create
    now += 8 * 24 * HOUR;
    const last = await silences.create({ matchers: { service: 'users' }, durationMs: HOUR, comment: 'x' }, 'ana');
    expect((await silences.list()).map((s) => s.id)).toEqual([last.id]);
  });

  it('refuses a silence without matchers, comment, or with a duration out of range', async () => {
    const silences = new SilenceRepository(new MemoryStore());
    const bad = [
      { matchers: {}, durationMs: HOUR, comment: 'x' },
      { matchers: { kind: '' }, durationMs: HOUR, comment: 'x' },
      { matchers: { kind: 'enumeration' }, durationMs: 0, comment: 'x' },
      { matchers: { kind: 'enumeration' }, durationMs: 31 * 24 * HOUR, comment: 'x' },
      { matchers: { kind: 'enumeration' }, durationMs: HOUR, comment: '  ' },
    ];
    for (const input of bad)
      await expect(silences.create(input, 'ana'), JSON.stringify(input)).rejects.toMatchObject({
        code: 'MW_ERR_BAD_REQUEST',
      });
    expect(await silences.list()).toEqual([]);
  });
});

describe('silenced alerts on their way to analysts and sinks', () => {
  it('are stored resolved with one note, kept from the sinks, and open again on new occurrences once it ends', async () => {
    let now = Date.now();
    const bus = new MemoryBus({ partitions: 1 });
    const store = new MemoryStore();
    const repo = new AlertRepository(store);
    const silences = new SilenceRepository(store, () => now);
    const feed = await followAlerts(bus, repo, { groupId: 'api-test', silences });
    // a topic sink: what it forwards lands on a topic of its own
    const [sink] = compileSinks({ 'topic/siem': { topic: 'siem', format: 'json' } });
    const sinkSaw: string[] = [];
    const sinkSub = await runSink(bus, silentLogger, sink, {
      skip: async () => {
        const silenceOf = await silences.matcher();
        return (a) => {
          sinkSaw.push(`${a.id}:${a.count}`);
          return silenceOf(a) !== undefined;
        };
      },
    });
    const siem = await forwardedAlertIds(bus, 'siem');
    const forwarded = siem.ids;
    const send = (b: Bus, a: Alert) => b.publish(TOPICS.alerts, [{ key: a.service, value: JSON.stringify(a) }]);

    const pentest = await silences.create(
      { matchers: { kind: 'enumeration', subject: '198.51.100.7' }, durationMs: HOUR, comment: 'red team pentest' },
      'ana',
    );
    await send(bus, alert('alr_quiet'));
    await send(bus, alert('alr_other', { subject: { type: 'ip', value: '203.0.113.9' } }));
    const quiet = await soon('the silenced alert', () => repo.get('alr_quiet').then((a) => a ?? undefined));
    expect(quiet).toMatchObject({ state: 'resolved', count: 1 });
    expect(await repo.notes('alr_quiet')).toEqual([
      expect.objectContaining({ actor: 'ana', action: 'resolve', comment: expect.stringContaining(pentest.id) }),
    ]);
    expect((await soon('the other alert', () => repo.get('alr_other').then((a) => a ?? undefined))).state).toBe('open');

    // refreshed during the silence: still resolved, counts kept, no second note
    await send(bus, alert('alr_quiet', { count: 5, lastSeen: 2000, updatedAt: 2000 }));
    await soon('the refresh', () => repo.get('alr_quiet').then((a) => (a && a.count === 5 ? a : undefined)));
    expect((await repo.get('alr_quiet'))?.state).toBe('resolved');
    expect(await repo.notes('alr_quiet')).toHaveLength(1);

    // the silence ends (once the sink has seen the refresh): new occurrences open it again, and the sinks get it
    await soon('the sink to see the refresh', () => (sinkSaw.includes('alr_quiet:5') ? true : undefined));
    now += HOUR;
    await send(bus, alert('alr_quiet', { count: 6, lastSeen: 3000, updatedAt: 3000 }));
    const reopened = await soon('the reopened alert', () =>
      repo.get('alr_quiet').then((a) => (a && a.count === 6 ? a : undefined)),
    );
    expect(reopened.state).toBe('open');
    await soon('the sink', () => (forwarded.length === 2 ? true : undefined));
    expect(forwarded).toEqual(['alr_other', 'alr_quiet']);

    for (const c of [feed, sinkSub, siem]) await c.close();
    await bus.close();
  });

  it('count what each silence suppressed in the store: another replica lists it, a restart keeps it, an ended one stops counting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mw-silences-'));
    try {
      let now = Date.now();
      const bus = new MemoryBus({ partitions: 1 });
      let store = new MemoryStore({ dataDir: dir });
      const repo = new AlertRepository(store);
      // the replica that consumes the alerts topic, and another that only answers the API
      const feeding = new SilenceRepository(store, () => now);
      const listing = new SilenceRepository(store, () => now);
      const feed = await followAlerts(bus, repo, { groupId: 'api-count', silences: feeding });
      const send = (a: Alert) => bus.publish(TOPICS.alerts, [{ key: a.service, value: JSON.stringify(a) }]);
      const pentest = await feeding.create(
        { matchers: { subject: '198.51.100.7' }, durationMs: HOUR, comment: 'pentest' },
        'ana',
      );
      const orders = await feeding.create(
        { matchers: { service: 'orders' }, durationMs: 2 * HOUR, comment: 'load' },
        'bo',
      );
      expect((await listing.list()).map((s) => [s.id, s.suppressed, s.lastSuppressedAt])).toEqual([
        [orders.id, 0, undefined],
        [pentest.id, 0, undefined],
      ]);

      // a new alert and two refreshes of it (one batch), another alert of the subject, one nobody silenced
      const at = now;
      await bus.publish(
        TOPICS.alerts,
        [1, 2, 3].map((count) => ({
          key: 'accounts',
          value: JSON.stringify(alert('alr_a', { count, lastSeen: 1000 * count, updatedAt: 1000 * count })),
        })),
      );
      await send(alert('alr_b', { kind: 'credential_stuffing' }));
      await send(alert('alr_loud', { subject: { type: 'ip', value: '203.0.113.1' } }));
      await soon('the unsilenced alert', () => repo.get('alr_loud').then((a) => a ?? undefined));
      const shown = await listing.list();
      expect(shown.find((s) => s.id === pentest.id)).toMatchObject({ suppressed: 4, lastSuppressedAt: at });
      expect(shown.find((s) => s.id === orders.id)).toMatchObject({ suppressed: 0 });
      expect(shown.find((s) => s.id === orders.id)?.lastSuppressedAt).toBeUndefined();
      // a resolved alert from the correlators is no suppression: it would open nothing
      await send(alert('alr_c', { state: 'resolved' }));
      await send(alert('alr_d', { service: 'orders', subject: undefined }));
      await soon('the orders alert', () => repo.get('alr_d').then((a) => a ?? undefined));
      expect((await listing.list()).map((s) => [s.id, s.suppressed])).toEqual([
        [orders.id, 1],
        [pentest.id, 4],
      ]);

      // ended: what comes next is not its doing
      await feeding.expire(pentest.id, 'ana');
      now += 60_000;
      await send(alert('alr_a', { count: 9, lastSeen: 9000, updatedAt: 9000 }));
      await soon('the reopened alert', () => repo.get('alr_a').then((a) => (a?.state === 'open' ? a : undefined)));
      expect((await listing.shown(await feeding.expire(orders.id, 'bo'))).suppressed).toBe(1);

      // a restart of the store keeps the counts with the silences
      await feed.close();
      await bus.close();
      await store.close();
      store = new MemoryStore({ dataDir: dir });
      expect((await new SilenceRepository(store).list()).map((s) => [s.id, s.suppressed, s.lastSuppressedAt])).toEqual([
        [orders.id, 1, at],
        [pentest.id, 4, at],
      ]);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import { describe, expect, it } from 'vitest';
import { apiCall } from '../../test/harness/api-call.js';
import { forwardedAlertIds } from '../../test/harness/captured-bus.js';
import { waitFor } from '../../test/harness/pipeline-client.js';
import { followAlerts } from '../app/roles.js';
import { TOPICS } from '../bus/bus.js';
import { MemoryBus } from '../bus/memory-bus.js';
import { silentLogger } from '../core/logger.js';
import { compileSinks, runSink } from '../sinks/sink-runner.js';
import { resolveConfig } from '../config/load.js';
import type { Alert } from '../core/alert.js';
import { parseRootCauseConfig } from '../correlator/root-cause/config.js';
import { ServiceEdges } from '../correlator/root-cause/service-edges.js';
import { MemoryStore } from '../store/memory-store.js';
import { AlertRepository } from './alert-repository.js';
import { MeshFolder, meshFolderOf } from './mesh-folder.js';

const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const MIN = 60_000;

const alert = (id: string, kind: string, service: string, over: Partial<Alert> = {}): Alert => ({
  v: 1,
  id,
  kind,
  severity: 'high',
  state: 'open',
  service,
  firstSeen: T0,
  lastSeen: T0 + MIN,
  count: 1,
  summary: `${kind} at ${service} (p95 900 ms, expected 100 ± 10 ms)`,
  evidence: { recordIds: [], metrics: {} },
  updatedAt: T0 + MIN,
  ...over,
});

/** a store with the mesh's call graph as two correlator shards write it: frontend → catalog → db, billing alone */
async function meshStore(): Promise<MemoryStore> {
  const store = new MemoryStore();
  const calls = [
    ['frontend', 'catalog'],
    ['catalog', 'db'],
    ['billing', 'ledger'],
  ];
  for (const [partition, [from, to]] of calls.entries()) {
    const edges = new ServiceEdges({ store, partition, group: 'meshward-correlator' }, 100);
    edges.observe(apiCall({ service: to, ts: T0 - MIN, source: { ip: '10.0.0.1', service: from } }));
    await edges.publish();
  }
  return store;
}

async function setup(opts: { reconsiderMs?: number; graphRefreshMs?: number } = {}) {
  const store = await meshStore();
  const repo = new AlertRepository(store);
  const folder = new MeshFolder(store, repo, {
    group: 'meshward-correlator',
    symptomsAt: parseRootCauseConfig({}).symptoms_at,
    subjectsFoldInto: parseRootCauseConfig({}).subjects_fold_into,
    foldWithinMs: 300_000,
    ...opts,
  });
  /** as the API stores an alert from the alerts topic */
  const store1 = async (a: Alert) => folder.consider(await repo.upsert(a));
  return { store, repo, folder, store1 };
}

describe('root-cause folding across partitions (the API)', () => {
  it("a slow caller's alert is folded into its slow backend's, whichever is stored first", async () => {
    for (const order of [
      ['db', 'frontend'],
      ['frontend', 'db'],
    ]) {
      const { repo, store1 } = await setup();
      const byService = {
        db: alert('alr_db', 'latency_spike', 'db'),
        frontend: alert('alr_fe', 'latency_spike', 'frontend'),
      };
      await store1(byService[order[0] as 'db']);
      expect(await store1(byService[order[1] as 'db'])).toBe(1);
      const fe = await repo.get('alr_fe');
      expect(fe).toMatchObject({ state: 'resolved', foldedInto: 'alr_db' });
      expect((await repo.get('alr_db'))?.folded).toEqual([
        { id: 'alr_fe', service: 'frontend', summary: 'latency_spike at frontend' },
      ]);
      expect((await repo.notes('alr_fe')).at(-1)?.comment).toContain('folded into alr_db');
      // the queue holds the root only
      expect((await repo.list({ state: 'open' })).items.map((a) => a.id)).toEqual(['alr_db']);
    }
  });

  it('a chain folds into its end; a traffic spike folds the other way (its symptoms at the callees)', async () => {
    const { repo, store1 } = await setup();
    await store1(alert('alr_fe', 'latency_spike', 'frontend'));
    await store1(alert('alr_cat', 'latency_spike', 'catalog'));
    expect((await repo.get('alr_fe'))?.foldedInto).toBe('alr_cat');
    await store1(alert('alr_db', 'latency_spike', 'db'));
    expect((await repo.get('alr_cat'))?.foldedInto).toBe('alr_db');
    expect((await repo.list({ state: 'open', kind: 'latency_spike' })).items.map((a) => a.id)).toEqual(['alr_db']);

    await store1(alert('alr_t_cat', 'traffic_spike', 'catalog'));
    await store1(alert('alr_t_fe', 'traffic_spike', 'frontend'));
    expect((await repo.get('alr_t_cat'))?.foldedInto).toBe('alr_t_fe');
    expect((await repo.get('alr_t_fe'))?.state).toBe('open');
  });

  it('leaves alone what the call graph does not link, other kinds, and alerts apart in time', async () => {
    const { repo, store1 } = await setup();
    await store1(alert('alr_db', 'latency_spike', 'db'));
    // billing calls ledger, not db
    expect(await store1(alert('alr_bill', 'latency_spike', 'billing'))).toBe(0);
    // an error burst is not a latency spike's symptom
    expect(await store1(alert('alr_err', 'error_burst', 'frontend'))).toBe(0);
    // an hour later
    expect(
      await store1(
        alert('alr_late', 'latency_spike', 'frontend', { firstSeen: T0 + 60 * MIN, lastSeen: T0 + 61 * MIN }),
      ),
    ).toBe(0);
    // a kind without symptoms
    expect(await store1(alert('alr_enum', 'enumeration', 'frontend'))).toBe(0);
    const open = (await repo.list({ state: 'open' })).items.map((a) => a.id).sort();
    expect(open).toEqual(['alr_bill', 'alr_db', 'alr_enum', 'alr_err', 'alr_late']);
  });

  it("a subject's excessive calls fold into its walk at a caller, or its fan-out at the same endpoint, whichever is stored first", async () => {
    const { repo, store1 } = await setup();
    const mallory = { type: 'user', value: 'mallory' };
    // the walk at the front end, its calls at the catalog (on another partition)
    await store1(alert('alr_walk', 'enumeration', 'frontend', { subject: mallory, endpoint: 'GET /api/items/{id}' }));
    expect(
      await store1(alert('alr_many', 'excessive_calls', 'catalog', { subject: mallory, endpoint: 'GET /items/{id}' })),
    ).toBe(1);
    expect(await repo.get('alr_many')).toMatchObject({ state: 'resolved', foldedInto: 'alr_walk' });
    // another user's, and mallory's at a service the front end does not call, stay
    expect(
      await store1(alert('alr_other', 'excessive_calls', 'catalog', { subject: { type: 'user', value: 'eve' } })),
    ).toBe(0);
    expect(await store1(alert('alr_ledger', 'excessive_calls', 'ledger', { subject: mallory }))).toBe(0);
    // fan_out runs on the trace stream, excessive_calls on the calls topic: the same endpoint, two shards; the generic
    // one stored first
    const trudy = { type: 'user', value: 'trudy' };
    await store1(alert('alr_t_many', 'excessive_calls', 'frontend', { subject: trudy, endpoint: 'GET /api/cart' }));
    expect(await store1(alert('alr_t_fan', 'fan_out', 'frontend', { subject: trudy, endpoint: 'GET /api/cart' }))).toBe(
      1,
    );
    expect((await repo.get('alr_t_many'))?.foldedInto).toBe('alr_t_fan');
    // an export seen at the front end and again at the backend it went through: the backend's folds into the front's
    const oscar = { type: 'user', value: 'oscar' };
    await store1(alert('alr_bulk_db', 'bulk_data_access', 'db', { subject: oscar }));
    await store1(alert('alr_bulk_cat', 'bulk_data_access', 'catalog', { subject: oscar }));
    expect((await repo.get('alr_bulk_db'))?.foldedInto).toBe('alr_bulk_cat');
    expect((await repo.list({ state: 'open' })).items.map((a) => a.id).sort()).toEqual([
      'alr_bulk_cat',
      'alr_ledger',
      'alr_other',
      'alr_t_fan',
      'alr_walk',
    ]);
  });

  it('an alert stored again is compared again once reconsiderMs passed: a call graph edge learnt since then folds it', async () => {
    for (const reconsiderMs of [60_000, 0]) {
      const { store, repo, store1 } = await setup({ reconsiderMs, graphRefreshMs: 0 });
      await store1(alert('alr_db', 'latency_spike', 'db'));
      // kiosk's calls to db are not in the graph yet
      expect(await store1(alert('alr_kiosk', 'latency_spike', 'kiosk'))).toBe(0);
      const edges = new ServiceEdges({ store, partition: 9, group: 'meshward-correlator' }, 100);
      edges.observe(apiCall({ service: 'db', ts: T0, source: { ip: '10.0.0.9', service: 'kiosk' } }));
      await edges.publish();
      // its correlator refreshes it
      await store1(alert('alr_kiosk', 'latency_spike', 'kiosk', { count: 2 }));
      expect((await repo.get('alr_kiosk'))?.foldedInto).toBe(reconsiderMs === 0 ? 'alr_db' : undefined);
    }
  });

  it("a correlator's later refresh keeps a symptom folded and its root's list of symptoms", async () => {
    const { repo, store1 } = await setup();
    await store1(alert('alr_db', 'latency_spike', 'db'));
    await store1(alert('alr_fe', 'latency_spike', 'frontend'));
    // the shards refresh both (more occurrences, later)
    await store1(
      alert('alr_fe', 'latency_spike', 'frontend', { count: 5, lastSeen: T0 + 3 * MIN, updatedAt: T0 + 3 * MIN }),
    );
    await store1(alert('alr_db', 'latency_spike', 'db', { count: 4, lastSeen: T0 + 3 * MIN, updatedAt: T0 + 3 * MIN }));
    expect(await repo.get('alr_fe')).toMatchObject({ state: 'resolved', foldedInto: 'alr_db', count: 5 });
    expect(await repo.get('alr_db')).toMatchObject({ state: 'open', count: 4, folded: [{ id: 'alr_fe' }] });
  });

  it('a sink leaves out an alert the API folded, or would fold into a root cause stored before it', async () => {
    const { repo, folder, store1 } = await setup();
    const bus = new MemoryBus({ partitions: 1 });
    const [sink] = compileSinks({ 'topic/siem': { topic: 'siem', format: 'json' } });
    const sinkSub = await runSink(bus, silentLogger, sink, { folded: (a) => folder.isFolded(a) });
    const siem = await forwardedAlertIds(bus, 'siem');
    const forwarded = siem.ids;
    const db = alert('alr_db', 'latency_spike', 'db');
    await store1(db);
    // the front end's alert reaches the sink before the API stored it: a symptom of the stored root all the same
    const fe = alert('alr_fe', 'latency_spike', 'frontend');
    const other = alert('alr_bill', 'latency_spike', 'billing');
    for (const a of [db, fe, other]) await bus.publish(TOPICS.alerts, [{ key: a.id, value: JSON.stringify(a) }]);
    await waitFor('the sink', async () => (forwarded.length === 2 ? true : undefined), 5_000);
    expect(forwarded).toEqual(['alr_db', 'alr_bill']);
    expect(await repo.get('alr_fe')).toBeNull();
    // folded since: its refresh is left out too
    await store1(fe);
    await bus.publish(TOPICS.alerts, [{ key: fe.id, value: JSON.stringify({ ...fe, count: 2 }) }]);
    await bus.publish(TOPICS.alerts, [{ key: db.id, value: JSON.stringify({ ...db, count: 2 }) }]);
    await waitFor('the refresh', async () => (forwarded.length === 3 ? true : undefined), 5_000);
    expect(forwarded).toEqual(['alr_db', 'alr_bill', 'alr_db']);
    expect(await folder.isFolded(fe)).toBe(true);
    await siem.close();
    await sinkSub.close();
    await bus.close();
  });

  it('the API folds alerts from the alerts topic when the bus has several partitions, and not with one', async () => {
    const config = (partitions: number) => resolveConfig({ bus: { kind: 'memory', partitions } });
    const store = await meshStore();
    const repo = new AlertRepository(store);
    expect(meshFolderOf(config(1), store, repo)).toBeUndefined();
    expect(
      meshFolderOf(
        resolveConfig({
          bus: { kind: 'memory', partitions: 4 },
          correlator: { root_cause: { across_services: false } },
        }),
        store,
        repo,
      ),
    ).toBeUndefined();
    const bus = new MemoryBus({ partitions: 4 });
    const sub = await followAlerts(bus, repo, { folder: meshFolderOf(config(4), store, repo) });
    for (const a of [alert('alr_db', 'latency_spike', 'db'), alert('alr_fe', 'latency_spike', 'frontend')])
      await bus.publish(TOPICS.alerts, [{ key: a.id, value: JSON.stringify(a) }]);
    await waitFor('the folded alert', async () => ((await repo.get('alr_fe'))?.foldedInto ? true : undefined), 5_000);
    await sub.close();
    await bus.close();
  });
});

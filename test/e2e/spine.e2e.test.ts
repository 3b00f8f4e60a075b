import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiCallRecord } from '../../pipeline/core/record.js';
import { type KafkaRedis, startKafkaRedis } from '../harness/kafka-redis.js';
import { startRole } from '../harness/meshward.js';
import {
  offlineReplay,
  offlineWindowCounts,
  postAll,
  servicePoints,
  tails,
  waitForAlerts,
} from '../harness/pipeline-client.js';
import type { Child } from '../harness/processes.js';
import { errorBurstTraffic, spineConfig, startApiAndCollector } from '../harness/spine.js';

const SENSOR_TOKEN = 'e2e-sensor-token-0123456789';
const API_KEY = 'e2e-viewer-key-0123456789';

/**
 * The spine across processes: records posted to a collector process reach a correlator process over Kafka (the
 * librdkafka mock cluster) and come out as alerts through the API process (state in a real Redis). The correlator is
 * SIGKILLed mid-stream and restarted: the alerts must equal an offline replay of the same records, none duplicated.
 */
describe('spine: collector → Kafka → correlator → alerts → API', () => {
  let engines: KafkaRedis | undefined;
  const children: Child[] = [];
  let config: string;

  // 100 minutes of simulated mesh traffic (about 48,000 calls) with an error burst after the baselines have formed
  const start = Date.UTC(2026, 0, 5, 8, 0, 0);
  const records: ApiCallRecord[] = errorBurstTraffic(7, start);

  beforeAll(async () => {
    engines = await startKafkaRedis({ callsPartitions: 4 });
    config = spineConfig(engines, { name: 'e2e', sensorToken: SENSOR_TOKEN, apiKey: API_KEY });
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled(children.map((c) => c.stop(3000)));
    await engines?.stop();
  });

  it("delivers every accepted record and produces the offline replay's alerts despite a SIGKILLed correlator", async () => {
    // the expected alerts: an offline, deterministic replay of the same records through the same detectors
    const expected = await offlineReplay(config, records);
    expect(expected.some((a) => a.kind === 'error_burst' && a.firstSeen >= start + 75 * 60_000)).toBe(true);

    const correlator1 = await startRole('correlator', config);
    children.push(correlator1.child);
    const { apiUrl, collectorUrl } = await startApiAndCollector(config, children);

    const cut = Math.floor(records.length * 0.55);
    for (let i = 0; i < cut; i += 1000)
      await postAll(collectorUrl, SENSOR_TOKEN, records.slice(i, Math.min(cut, i + 1000)), 21);
    // let the correlator checkpoint some progress, then kill it without warning
    await new Promise((r) => setTimeout(r, 1500));
    correlator1.child.kill('SIGKILL');
    await correlator1.child.exited;
    for (let i = cut; i < records.length; i += 1000)
      await postAll(collectorUrl, SENSOR_TOKEN, records.slice(i, Math.min(records.length, i + 1000)), 21);
    const correlator2 = await startRole('correlator', config);
    children.push(correlator2.child);

    const got = await waitForAlerts(apiUrl, API_KEY, expected);
    expect(got.map((a) => a.id).sort(), tails(children)).toEqual(expected.map((a) => a.id).sort());
    for (const e of expected) {
      const g = got.find((a) => a.id === e.id);
      expect(g, e.id).toMatchObject({
        kind: e.kind,
        service: e.service,
        state: e.state,
        count: e.count,
        firstSeen: e.firstSeen,
      });
    }
    // every accepted record was counted exactly once: the RED windows the correlators stored equal the offline ones
    // (windows of the last minutes are left out: each partition closes them by its own watermark)
    const windows = await offlineWindowCounts(records);
    const services = [...new Set(records.map((r) => r.service))];
    let compared = 0;
    for (const service of services) {
      for (const p of await servicePoints(apiUrl, API_KEY, service)) {
        if (p.start > start + 90 * 60_000) continue;
        expect(p.count, `${service} window ${new Date(p.start).toISOString()}`).toBe(
          windows.get(`${service}@${p.start}`),
        );
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(services.length * 80);
  }, 240_000);
});

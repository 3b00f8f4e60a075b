import { request } from 'node:http';
import { CompressionTypes, type Kafka, Partitioners, type Producer } from 'kafkajs';
import type { ApiCallRecord } from '../../pipeline/core/record.js';
import { simulate } from '../../pipeline/simulate/simulate.js';
import { recordId } from '../../sensors/common/record-id.js';
import { kafkaPartitionOf } from '../../test/harness/kafka.js';

/** Simulated mesh calls replayed with ts = now and a fresh id, over `meshes` copies of the mesh under other names. */
export interface Traffic {
  next(now: number): ApiCallRecord;
  /** distinct destination services (the partition key) */
  readonly services: number;
}

/**
 * The simulator's mesh has six services and two of them carry 80% of the calls; keyed by service, that is at most six
 * busy partitions, two of them hot. Copy k of the mesh renames every service `<name>-m<k>` (hosts and SPIFFE ids
 * too), so the same traffic spreads over 6 × meshes keys, as a mesh of that many services would.
 */
export function meshTraffic(meshes: number): Traffic {
  const pool = simulate({ seed: 11, start: Date.UTC(2026, 0, 5, 8), durationMs: 10 * 60_000, rps: 12 }).records;
  const renamed: Map<string, string>[] = Array.from({ length: meshes }, () => new Map());
  const name = (k: number, s: string | undefined): string | undefined => {
    if (s === undefined || k === 0) return s;
    let n = renamed[k].get(s);
    if (n === undefined) {
      n = s.replace(/^([a-z-]+)/, `$1-m${k}`).replace(/\/sa\/([a-z-]+)$/, `/sa/$1-m${k}`);
      renamed[k].set(s, n);
    }
    return n;
  };
  const services = new Set<string>();
  for (const r of pool) for (let k = 0; k < meshes; k++) services.add(name(k, r.service) as string);
  let i = 0;
  return {
    services: services.size,
    next(now) {
      const k = i % meshes;
      const t = pool[Math.floor(i / meshes) % pool.length];
      i++;
      return {
        ...t,
        id: recordId(now),
        ts: now,
        service: name(k, t.service) as string,
        host: name(k, t.host) as string,
        source: { ...t.source, service: name(k, t.source.service), principal: name(k, t.source.principal) },
      };
    },
  };
}

/**
 * Drives `total` records from `clients` concurrent clients in batches of `batch`, stamped when the batch is made; a
 * client makes its next batch only while `room(client)` says so (its own backpressure).
 */
export async function drive(opts: {
  total: number;
  clients: number;
  batch: number;
  traffic: Traffic;
  send: (client: number, batch: ApiCallRecord[]) => void;
  room: (client: number) => boolean;
}): Promise<void> {
  const each = Math.ceil(opts.total / opts.clients);
  await Promise.all(
    Array.from({ length: opts.clients }, async (_, c) => {
      const quota = Math.max(0, Math.min(each, opts.total - c * each));
      for (let sent = 0; sent < quota; ) {
        if (!opts.room(c)) {
          await new Promise((r) => setTimeout(r, 2));
          continue;
        }
        const n = Math.min(opts.batch, quota - sent);
        const now = Date.now();
        const batch: ApiCallRecord[] = new Array(n);
        for (let i = 0; i < n; i++) batch[i] = opts.traffic.next(now);
        sent += n;
        opts.send(c, batch);
        await new Promise((r) => setImmediate(r));
      }
    }),
  );
}

/**
 * `clients` kafkajs producers (gzip, acks from all replicas, keyed by service like the collector) and one more for
 * probes; each client keeps at most two sends in flight, as the sensors' shipper does.
 */
export async function directProducers(client: Kafka, clients: number, onProducer: (p: Producer) => void) {
  const producers: Producer[] = [];
  for (let c = 0; c <= clients; c++) {
    const p = client.producer({ idempotent: false, createPartitioner: Partitioners.DefaultPartitioner });
    await p.connect();
    onProducer(p);
    producers.push(p);
  }
  const produce = (p: Producer, topic: string, batch: ApiCallRecord[]) =>
    p.send({
      topic,
      acks: -1,
      compression: CompressionTypes.GZIP,
      messages: batch.map((r) => ({ key: r.service, value: JSON.stringify(r) })),
    });
  return {
    probe: (topic: string, r: ApiCallRecord) => produce(producers[clients], topic, [r]),
    /** resolves with the records acknowledged per second */
    async load(topic: string, total: number, traffic: Traffic, batch: number): Promise<number> {
      const inFlight = new Array<number>(clients).fill(0);
      const pending: Promise<unknown>[] = [];
      const t0 = Date.now();
      await drive({
        total,
        clients,
        batch,
        traffic,
        send: (c, records) => {
          inFlight[c]++;
          pending.push(produce(producers[c], topic, records).finally(() => inFlight[c]--));
        },
        room: (c) => inFlight[c] < 2,
      });
      await Promise.all(pending);
      return total / ((Date.now() - t0) / 1000);
    },
  };
}

/** the share of `sample` records each partition gets, keyed by service like the collector (0..1 per partition) */
export function partitionShares(traffic: Traffic, topic: string, partitions: number, sample: number): number[] {
  const partitionOf = kafkaPartitionOf(topic, partitions);
  const counts = new Array<number>(partitions).fill(0);
  for (let i = 0; i < sample; i++) {
    const key = traffic.next(0).service;
    counts[partitionOf(key)]++;
  }
  return counts.map((c) => c / sample);
}

/** POST one record to the collector, as a sensor that sends it at once */
export function postRecord(collectorUrl: string, token: string, r: ApiCallRecord): Promise<void> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify([r]);
    const req = request(
      `${collectorUrl}/v1/records`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`collector ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

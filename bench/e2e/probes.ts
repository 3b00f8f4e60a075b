import { request } from 'node:http';
import type { Alert } from '../../pipeline/core/alert.js';
import type { ApiCallRecord } from '../../pipeline/core/record.js';
import { recordId } from '../../sensors/common/record-id.js';
import { kafkaPartitionOf } from '../../test/harness/kafka.js';

/**
 * Latency probes for the end-to-end bench. A probe is an injected anomaly: a service-to-service call without mTLS from
 * a caller never seen before, stamped ts = now. The plaintext_hop detector raises one alert per new (caller, service)
 * pair at once, with no learning period, so every probe opens its own alert, whose subject is the probe's caller.
 */

/** service names whose murmur2 key hash lands on each partition (kafkajs's default partitioner, as the collector's) */
export function probeServices(topic: string, partitions: number): string[] {
  const partitionOf = kafkaPartitionOf(topic, partitions);
  const out: string[] = new Array(partitions);
  for (let j = 0, found = 0; found < partitions; j++) {
    const key = `bench-probe-${j}`;
    const p = partitionOf(key);
    if (out[p] === undefined) {
      out[p] = key;
      found++;
    }
  }
  return out;
}

export function probeRecord(caller: string, service: string, now: number): ApiCallRecord {
  return {
    id: recordId(now),
    ts: now,
    durationMs: 3,
    sensor: { kind: 'bench', id: 'probe' },
    service,
    method: 'GET',
    host: `${service}.bench.svc.cluster.local`,
    path: '/healthz',
    route: '/healthz',
    status: 200,
    reqBytes: 0,
    respBytes: 2,
    source: { ip: '10.9.9.9', service: caller, mtls: false },
  };
}

/** probe callers → when their record was stamped and when their alert was first seen */
export class ProbeBook {
  private readonly sentAt = new Map<string, number>();
  private readonly seenAt = new Map<string, number>();
  private readonly waiters = new Map<string, () => void>();

  sent(caller: string, ts: number): Promise<void> {
    this.sentAt.set(caller, ts);
    return new Promise((resolve) => this.waiters.set(caller, resolve));
  }

  seen(caller: string, now: number): void {
    if (!this.sentAt.has(caller) || this.seenAt.has(caller)) return;
    this.seenAt.set(caller, now);
    this.waiters.get(caller)?.();
    this.waiters.delete(caller);
  }

  latencies(callers: string[]): number[] {
    const out: number[] = [];
    for (const c of callers) {
      const seen = this.seenAt.get(c);
      if (seen !== undefined) out.push(seen - (this.sentAt.get(c) as number));
    }
    return out;
  }

  seenTimes(callers: string[]): number[] {
    return callers.map((c) => this.seenAt.get(c) ?? Number.NaN);
  }
}

export interface ProbeSent {
  callers: string[];
  /** resolves when every probe's alert was seen */
  seen: Promise<void>;
  /** resolves when every probe was handed over (acknowledged by Kafka or the collector) */
  sent: Promise<unknown>;
}

/** sends probes, one record per send, and books them */
export class Prober {
  private n = 0;
  private readonly services: string[];

  constructor(
    private readonly book: ProbeBook,
    topic: string,
    private readonly partitions: number,
    /** how a probe record enters the pipeline; may be switched between phases */
    public send: (r: ApiCallRecord) => Promise<unknown>,
    private readonly onError: (msg: string) => void,
  ) {
    this.services = probeServices(topic, partitions);
  }

  /** one probe, to `partition` or round robin */
  one(prefix: string, partition?: number): ProbeSent {
    const caller = `${prefix}-${this.n}`;
    const now = Date.now();
    const r = probeRecord(caller, this.services[partition ?? this.n % this.partitions], now);
    this.n++;
    const seen = this.book.sent(caller, now);
    const sent = this.send(r).catch((err) => this.onError(`probe ${caller} not sent: ${(err as Error).message}`));
    return { callers: [caller], seen, sent };
  }

  /** one probe per partition */
  round(prefix: string): ProbeSent {
    const ps = Array.from({ length: this.partitions }, (_, p) => this.one(prefix, p));
    return {
      callers: ps.flatMap((p) => p.callers),
      seen: Promise.all(ps.map((p) => p.seen)).then(() => {}),
      sent: Promise.all(ps.map((p) => p.sent)),
    };
  }

  /** `count` probes one after the other, each waited for (at most `timeoutMs`) */
  async sequence(prefix: string, count: number, timeoutMs = 5_000): Promise<string[]> {
    const callers: string[] = [];
    for (let i = 0; i < count; i++) {
      const p = this.one(prefix);
      callers.push(...p.callers);
      await Promise.race([p.seen, new Promise((r) => setTimeout(r, timeoutMs))]);
    }
    return callers;
  }

  /** a probe every `everyMs` until stop() */
  periodic(prefix: string, everyMs: number): { callers: string[]; stop: () => Promise<void> } {
    const callers: string[] = [];
    let on = true;
    const loop = (async () => {
      while (on) {
        callers.push(...this.one(prefix).callers);
        await new Promise((r) => setTimeout(r, everyMs));
      }
    })();
    return {
      callers,
      stop: async () => {
        on = false;
        await loop;
      },
    };
  }
}

/** GET /v1/alerts/stream with an API key; onAlert for every `event: alert`; resolves with a stop function */
export function followAlertStream(apiUrl: string, apiKey: string, onAlert: (a: Alert) => void): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const req = request(`${apiUrl}/v1/alerts/stream`, { headers: { 'x-api-key': apiKey } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`the alert stream answered ${res.statusCode}`));
        return;
      }
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (chunk: string) => {
        buf += chunk;
        for (let end = buf.indexOf('\n\n'); end >= 0; end = buf.indexOf('\n\n')) {
          const event = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const data = event.split('\n').find((l) => l.startsWith('data: '));
          if (event.includes('event: alert') && data) onAlert(JSON.parse(data.slice(6)) as Alert);
        }
      });
      resolve(() => req.destroy());
    });
    req.on('error', reject);
    req.end();
  });
}

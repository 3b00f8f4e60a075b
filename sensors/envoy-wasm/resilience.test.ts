import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type CollectorStub, startCollectorStub } from './host/collector-stub.js';
import { RIG_SENSOR_TOKEN, type Rig, startRig } from './host/rig.js';
import { sampleRequest } from './host/sample-traffic.js';

// The collector down, failing or slow: requests still complete through the proxy, losses are bounded and counted,
// a failing collector sees one probe per tick, and the losses are reported once delivery works again.

const WARN = 3;
const INFO = 2;

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

let rig: Rig | undefined;
let extra: CollectorStub | undefined;
afterEach(async () => {
  await rig?.close();
  await extra?.close();
  rig = undefined;
  extra = undefined;
});

describe('envoy_wasm sensor: failure handling', () => {
  it('survives a collector that refuses connections, drops beyond the buffer, and reports the loss when it is back', async () => {
    const port = await freePort();
    rig = await startRig(
      { batch_size: 5, max_buffer: 10, max_in_flight: 2 },
      { collectorUrl: `http://127.0.0.1:${port}` },
    );
    const { host } = rig;
    // 2 batches go out (cap), 10 records fill the buffer, 5 are dropped; no request fails
    for (let i = 0; i < 25; i++) expect(() => host.request(sampleRequest(i))).not.toThrow();
    expect(host.metric('meshward_sensor.records_dropped')).toBe(5n);
    await host.settle();
    expect(host.metric('meshward_sensor.batches_failed')).toBe(2n);
    expect(host.metric('meshward_sensor.records_failed')).toBe(10n);
    expect(host.logs.filter((l) => l.level === WARN)).toHaveLength(1);
    // while failing: one probe per tick, the rest waits
    host.tick();
    await host.settle();
    expect(host.httpCalls).toBe(3);
    expect(host.metric('meshward_sensor.records_failed')).toBe(15n);

    extra = await startCollectorStub({ sensorToken: RIG_SENSOR_TOKEN, port });
    host.tick();
    await host.settle();
    expect(extra.records.map((r) => r.id)).toEqual(['req-15', 'req-16', 'req-17', 'req-18', 'req-19']);
    const report = host.logs.filter((l) => l.level === INFO && l.message.includes('delivery ok again'));
    expect(report).toHaveLength(1);
    expect(report[0].message).toContain('5 records were dropped');
    expect(report[0].message).toContain('15 records were lost in 3 failed batches');
    // healthy again: size-triggered batches resume, and nothing more is reported
    for (let i = 100; i < 110; i++) host.request(sampleRequest(i));
    await host.settle();
    expect(extra.records).toHaveLength(15);
    expect(host.logs.filter((l) => l.message.includes('delivery ok again'))).toHaveLength(1);
  });

  it('counts 500 answers as failed batches without a retry storm', async () => {
    rig = await startRig({ batch_size: 5, max_buffer: 1000, max_in_flight: 2 });
    const { host, collector } = rig;
    collector!.setBehaviour('error');
    for (let i = 0; i < 10; i++) host.request(sampleRequest(i));
    await host.settle();
    for (let i = 10; i < 60; i++) host.request(sampleRequest(i));
    for (let t = 0; t < 3; t++) {
      host.tick();
      await host.settle();
    }
    // 2 batches before the first failure was known, then one probe per tick
    expect(collector!.bodies).toHaveLength(5);
    expect(host.metric('meshward_sensor.batches_failed')).toBe(5n);
    expect(host.metric('meshward_sensor.records_failed')).toBe(25n);
    collector!.setBehaviour('accept');
    host.tick();
    await host.settle();
    // the probe succeeded: the rest is sent right away, batch after batch
    expect(collector!.records).toHaveLength(35);
    expect(host.logs.some((l) => l.message.includes('25 records were lost in 5 failed batches'))).toBe(true);
  });

  it('never has more than max_in_flight batches awaiting an answer', async () => {
    rig = await startRig({ batch_size: 5, max_buffer: 100, max_in_flight: 2 });
    const { host, collector } = rig;
    collector!.setBehaviour('hold');
    for (let i = 0; i < 40; i++) host.request(sampleRequest(i));
    host.tick();
    host.tick();
    const deadline = Date.now() + 3000;
    while (collector!.maxConcurrent < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(host.inFlight).toBe(2);
    expect(collector!.maxConcurrent).toBe(2);
    collector!.setBehaviour('accept');
    collector!.release();
    await host.settle();
    host.tick();
    await host.settle();
    expect(host.maxInFlight).toBe(2);
    expect(collector!.maxConcurrent).toBe(2);
    expect(collector!.records).toHaveLength(40);
    expect(host.metric('meshward_sensor.records_dropped')).toBe(0n);
  });

  it('counts a dispatch the proxy refuses (unknown cluster) as a failed batch', async () => {
    rig = await startRig({ batch_size: 2, collector_cluster: 'no_such_cluster' });
    const { host } = rig;
    for (let i = 0; i < 4; i++) host.request(sampleRequest(i));
    host.tick();
    await host.settle();
    expect(host.httpCalls).toBe(0);
    expect(host.metric('meshward_sensor.batches_failed')).toBe(2n);
    const warn = host.logs.filter((l) => l.level === WARN);
    expect(warn).toHaveLength(1);
    expect(warn[0].message).toContain('no_such_cluster');
    expect(warn[0].message).not.toContain(RIG_SENSOR_TOKEN);
  });

  it('times out a collector that never answers', async () => {
    rig = await startRig({ batch_size: 1, http_timeout_ms: 200 });
    const { host, collector } = rig;
    collector!.setBehaviour('hold');
    host.request(sampleRequest(1));
    await host.settle();
    expect(host.metric('meshward_sensor.batches_failed')).toBe(1n);
    expect(host.inFlight).toBe(0);
  });
});

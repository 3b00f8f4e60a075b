import { createRequire } from 'node:module';
import { join } from 'node:path';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { type ApiCallRecord, ApiCallRecordSchema } from '../../pipeline/core/record.js';
import { compileMapping, loadMappingFile } from './mapping.js';
import { RequestPairing } from './request-pairing.js';
import { headerText, tappedMessage } from './tapped-message.js';

const require = createRequire(import.meta.url);
const check = TypeCompiler.Compile(ApiCallRecordSchema);

/**
 * The headers kafkajs hands the consumer for a record whose headers are `headers` (a null value as Kafka encodes it,
 * length -1): the record written with kafkajs's own protocol encoder and read back with its own record decoder, the
 * code a consumer's fetch runs. (kafkajs's producer cannot send a null value; Java and librdkafka producers can.)
 */
function decodedHeaders(headers: [string, string | null][]): IHeaders {
  const Encoder = require('kafkajs/src/protocol/encoder');
  const Decoder = require('kafkajs/src/protocol/decoder');
  const Header = require('kafkajs/src/protocol/recordBatch/header/v0');
  const decodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/decoder');
  const body = new Encoder()
    .writeInt8(0)
    .writeVarLong(0)
    .writeVarInt(0)
    .writeVarIntBytes(null)
    .writeVarIntBytes(Buffer.from('{}'))
    .writeVarIntArray(
      headers.map(([key, value]) => Header({ key, value: value === null ? null : Buffer.from(value) })),
    );
  return decodeRecord(new Decoder(body.buffer), { firstOffset: '0', firstTimestamp: '1700000000000', magicByte: 2 })
    .headers;
}

describe('headerText', () => {
  it('takes a header whose value is null as absent, and reads the others', () => {
    const headers = decodedHeaders([
      ['correlation-id', 'c-1'],
      ['x-caller', null],
      ['traceparent', null],
      ['x-operation', 'create'],
    ]);
    expect(headers['x-caller']).toBeNull(); // what kafkajs hands over
    expect(headerText(headers)).toEqual({ 'correlation-id': 'c-1', 'x-operation': 'create' });
  });

  it('a request with a null header is recorded as one without it', () => {
    const out: ApiCallRecord[] = [];
    const mapping = compileMapping(loadMappingFile(join(import.meta.dirname, 'testdata', 'mapping.yaml')));
    const pairing = new RequestPairing(mapping, { sensorId: 'bus-t', maxPending: 10 }, (r) => out.push(r));
    const request = decodedHeaders([
      ['correlation-id', 'c-1'],
      ['x-caller', null],
    ]);
    pairing.onMessage({ topic: 'orders.requests', timestamp: 1_000, headers: headerText(request), size: 2 });
    pairing.onMessage({
      topic: 'orders.replies',
      timestamp: 1_040,
      headers: headerText(
        decodedHeaders([
          ['correlation-id', 'c-1'],
          ['x-status', null],
        ]),
      ),
      size: 3,
    });
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ status: 200, durationMs: 40, source: {}, tags: { bus_outcome: 'reply' } });
    expect(check.Check(out[0])).toBe(true);
  });

  it('reads the first value of a repeated header, text or bytes', () => {
    expect(headerText({ a: ['x', 'y'], b: Buffer.from('z'), c: [Buffer.from('w')], d: [], e: undefined })).toEqual({
      a: 'x',
      b: 'z',
      c: 'w',
    });
  });
});

/**
 * The messages kafkajs hands the consumer for a message set of the old formats (magic byte 0: no timestamp; 1: a
 * timestamp, here -1 as a producer writes "none"), written with kafkajs's own message set encoder and read back with
 * its own decoder, the code a consumer's fetch runs for a partition in such a format.
 */
async function decodedOldFormat(messageVersion: 0 | 1, timestamp?: number): Promise<KafkaMessage[]> {
  const encodeSet = require('kafkajs/src/protocol/messageSet');
  const decodeSet = require('kafkajs/src/protocol/messageSet/decoder');
  const Decoder = require('kafkajs/src/protocol/decoder');
  const set = encodeSet({ messageVersion, entries: [{ key: 'k', value: '{"who":"web"}', timestamp }] });
  return decodeSet(new Decoder(set.buffer), set.size());
}

describe('tappedMessage', () => {
  const readAt = 1_767_607_200_000;
  const oneWay = (timestamps: (string | undefined)[]) => {
    const out: ApiCallRecord[] = [];
    const mapping = compileMapping(loadMappingFile(join(import.meta.dirname, 'testdata', 'mapping.yaml')));
    const pairing = new RequestPairing(mapping, { sensorId: 'bus-t', maxPending: 10 }, (r) => out.push(r));
    let untimed = 0;
    for (const timestamp of timestamps) {
      const m = { timestamp, headers: {}, value: Buffer.from('{}') } as unknown as KafkaMessage;
      pairing.onMessage(tappedMessage('audit.events', m, readAt, () => untimed++));
    }
    return { out, untimed };
  };

  it('times a message of the old formats, which has no timestamp, by when it was read, and counts it', async () => {
    const [v0] = await decodedOldFormat(0);
    const [v1] = await decodedOldFormat(1, -1);
    expect([v0.timestamp, v1.timestamp]).toEqual([undefined, '-1']); // what kafkajs hands over
    const { out, untimed } = oneWay([v0.timestamp, v1.timestamp, '', 'x', '1.5', '8640000000000001']);
    expect(untimed).toBe(6);
    expect(out.map((r) => r.ts)).toEqual(Array(6).fill(readAt));
    for (const r of out) expect(check.Check(r)).toBe(true);
  });

  it('keeps the timestamp a message carries, and reads its headers and size', async () => {
    const [v1] = await decodedOldFormat(1, 1_700_000_000_000);
    const { out, untimed } = oneWay([v1.timestamp, '0']);
    expect(untimed).toBe(0);
    expect(out.map((r) => r.ts)).toEqual([1_700_000_000_000, 0]);
    const m = {
      timestamp: '5',
      headers: { a: Buffer.from('b') },
      value: Buffer.from('xyz'),
    } as unknown as KafkaMessage;
    expect(tappedMessage('t', m, readAt, () => {})).toEqual({ topic: 't', timestamp: 5, headers: { a: 'b' }, size: 3 });
  });
});

import type { IHeaders, KafkaMessage } from 'kafkajs';
import type { TappedMessage } from './request-pairing.js';

/**
 * Kafka header values as text: the first value of a repeated header. A header whose value is null (Kafka allows it:
 * a Java producer's `new RecordHeader(key, null)`, librdkafka's NULL value) reaches kafkajs as null, and is taken as
 * absent: reading it as text would throw inside the consumer's batch, which would then be retried without end.
 */
export function headerText(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const k of Object.keys(headers)) {
    // kafkajs types leave out the null it hands over for a null value
    const v = headers[k] as Buffer | string | null | (Buffer | string | null)[] | undefined;
    const first = Array.isArray(v) ? v[0] : v;
    if (first === undefined || first === null) continue;
    out[k] = typeof first === 'string' ? first : first.toString('utf8');
  }
  return out;
}

/** the latest epoch ms a record can hold (the record schema's bound on ts) */
const MAX_TS = 8_640_000_000_000_000;

/**
 * A message kafkajs read from a tapped topic as the sensor uses it. A message with no timestamp is timed by `readAt`
 * (when the sensor read it) and `onUntimed` is called: the old message format (magic byte 0, before Kafka 0.10)
 * carries none, and kafkajs leaves it undefined; a producer or broker may write -1 ("no timestamp"). Taken as it
 * came, such a time would make the record's ts invalid, and the collector would dead-letter the call.
 */
export function tappedMessage(
  topic: string,
  m: Pick<KafkaMessage, 'timestamp' | 'headers' | 'value'>,
  readAt: number,
  onUntimed: () => void,
): TappedMessage {
  // kafkajs types say string; a message of the old format has none
  const raw = m.timestamp as string | undefined;
  let timestamp = raw === undefined || raw === '' ? Number.NaN : Number(raw);
  if (!Number.isInteger(timestamp) || timestamp < 0 || timestamp > MAX_TS) {
    timestamp = readAt;
    onUntimed();
  }
  return { topic, timestamp, headers: headerText(m.headers), size: m.value?.length ?? 0 };
}

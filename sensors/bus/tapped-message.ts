import type { IHeaders } from 'kafkajs';

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

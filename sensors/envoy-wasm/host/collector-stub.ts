import { TypeCompiler } from '@sinclair/typebox/compiler';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { type ApiCallRecord, ApiCallRecordSchema } from '../../../pipeline/core/record.js';

/**
 * A stand-in for the meshward collector's `POST /v1/records`, for sensor tests: it keeps the raw bodies (to grep
 * them for secrets), validates every record against ApiCallRecordSchema and answers `{accepted, rejected}`.
 * `receiveRecords` is the one place to swap in the real collector's ingest.
 */

const checkRecord = TypeCompiler.Compile(ApiCallRecordSchema);

export interface Rejection {
  index: number;
  code: string;
  reason: string;
}

/** what the collector does with one decoded batch */
export function receiveRecords(batch: unknown): { accepted: ApiCallRecord[]; rejected: Rejection[] } {
  const accepted: ApiCallRecord[] = [];
  const rejected: Rejection[] = [];
  if (!Array.isArray(batch))
    return { accepted, rejected: [{ index: 0, code: 'MW_ERR_RECORD_INVALID', reason: 'body is not an array' }] };
  batch.forEach((item, index) => {
    // unlike the collector, nothing past a bound is cut (pipeline/core/record-bounds.ts): the plugin caps params,
    // tags, path and host itself, and a build that stopped doing so is refused here
    if (checkRecord.Check(item)) accepted.push(item);
    else {
      const first = checkRecord.Errors(item).First();
      rejected.push({
        index,
        code: 'MW_ERR_RECORD_INVALID',
        reason: first ? `${first.path}: ${first.message}` : 'invalid',
      });
    }
  });
  return { accepted, rejected };
}

export type CollectorBehaviour = 'accept' | 'error' | 'hold';

export interface CollectorStub {
  url: string;
  /** raw request bodies in arrival order */
  readonly bodies: Buffer[];
  readonly records: ApiCallRecord[];
  readonly rejected: Rejection[];
  /** records per batch in arrival order */
  readonly batchSizes: number[];
  /** header values seen (authorization and friends) per batch */
  readonly headers: Array<Record<string, string | string[] | undefined>>;
  unauthorized: number;
  maxConcurrent: number;
  setBehaviour(b: CollectorBehaviour): void;
  /** answers every held request with 200 */
  release(): void;
  close(): Promise<void>;
}

export async function startCollectorStub(opts: { sensorToken: string; port?: number }): Promise<CollectorStub> {
  const app: FastifyInstance = Fastify({ bodyLimit: 16 * 1024 * 1024 });
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  let behaviour: CollectorBehaviour = 'accept';
  let concurrent = 0;
  const held: Array<() => void> = [];
  const stub: CollectorStub = {
    url: '',
    bodies: [],
    records: [],
    rejected: [],
    batchSizes: [],
    headers: [],
    unauthorized: 0,
    maxConcurrent: 0,
    setBehaviour: (b) => {
      behaviour = b;
    },
    release: () => {
      for (const answer of held.splice(0)) answer();
    },
    close: async () => {
      stub.release();
      await app.close();
    },
  };

  const answer = (raw: Buffer, reply: FastifyReply) => {
    let batch: unknown;
    try {
      batch = JSON.parse(raw.toString('utf8'));
    } catch {
      return reply.code(400).send({ code: 'MW_ERR_RECORD_PARSE', message: 'record is not valid JSON' });
    }
    const { accepted, rejected } = receiveRecords(batch);
    stub.records.push(...accepted);
    stub.rejected.push(...rejected);
    stub.batchSizes.push(Array.isArray(batch) ? batch.length : 0);
    return reply.send({ accepted: accepted.length, ids: accepted.map((r) => r.id), rejected });
  };

  app.post('/v1/records', async (req, reply) => {
    const raw = req.body as Buffer;
    stub.bodies.push(raw);
    stub.headers.push({ ...req.headers });
    if (req.headers.authorization !== `Bearer ${opts.sensorToken}`) {
      stub.unauthorized++;
      return reply.code(401).send({ code: 'MW_ERR_UNAUTHENTICATED', message: 'missing or invalid credentials' });
    }
    if (behaviour === 'error') return reply.code(500).send({ code: 'MW_ERR_INTERNAL', message: 'internal error' });
    concurrent++;
    stub.maxConcurrent = Math.max(stub.maxConcurrent, concurrent);
    try {
      if (behaviour === 'hold') await new Promise<void>((resolve) => held.push(resolve));
      return answer(raw, reply);
    } finally {
      concurrent--;
    }
  });

  stub.url = await app.listen({ host: '127.0.0.1', port: opts.port ?? 0 });
  return stub;
}

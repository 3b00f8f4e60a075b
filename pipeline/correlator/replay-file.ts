import { createReadStream, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { loadConfig } from '../config/load.js';
import { type ApiCallRecord, ApiCallRecordSchema } from '../core/record.js';
import { compileDetectors } from '../detectors/registry.js';
import { replay } from './replay.js';
import { shardOptionsOf } from './shard-options.js';

const check = TypeCompiler.Compile(ApiCallRecordSchema);

export interface ReplayFileResult {
  records: number;
  rejected: number;
  alerts: number;
  firstRejection?: string;
}

/** `meshward replay`: validated JSONL in, alerts JSONL out; bad lines are counted and named, never fatal */
export async function runReplayFile(opts: { input: string; out: string; config?: string }): Promise<ReplayFileResult> {
  const config = loadConfig(opts.config);
  const detectors = compileDetectors(config.detectors);
  let records = 0;
  let rejected = 0;
  let firstRejection: string | undefined;
  async function* read(): AsyncGenerator<ApiCallRecord> {
    const lines = createInterface({
      input: createReadStream(opts.input, { encoding: 'utf8' }),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    let n = 0;
    for await (const line of lines) {
      n++;
      if (!line.trim()) continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (err) {
        rejected++;
        firstRejection ??= `line ${n}: not JSON (${(err as Error).message})`;
        continue;
      }
      if (!check.Check(value)) {
        rejected++;
        const e = check.Errors(value).First();
        firstRejection ??= `line ${n}: ${e ? `${e.path || '/'}: ${e.message}` : 'not an ApiCallRecord'}`;
        continue;
      }
      records++;
      yield value;
    }
  }
  const alerts = await replay(read(), { detectors: detectors.create(), ...shardOptionsOf(config) });
  writeFileSync(opts.out, alerts.map((a) => JSON.stringify(a)).join('\n') + (alerts.length ? '\n' : ''));
  return { records, rejected, alerts: alerts.length, ...(firstRejection ? { firstRejection } : {}) };
}

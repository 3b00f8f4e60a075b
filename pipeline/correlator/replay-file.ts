import { writeFileSync } from 'node:fs';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { loadConfig } from '../config/load.js';
import { unwritableFile } from '../core/failure-line.js';
import { type ApiCallRecord, ApiCallRecordSchema } from '../core/record.js';
import { boundRecord } from '../core/record-bounds.js';
import { type JsonlRejections, validJsonl } from '../core/valid-jsonl.js';
import { compileDetectors } from '../detectors/registry.js';
import { replay } from './replay.js';
import { shardOptionsOf } from './shard-options.js';

const check = TypeCompiler.Compile(ApiCallRecordSchema);

/** `rejected` and `firstRejection`: the lines of the input that are not records */
export interface ReplayFileResult extends JsonlRejections {
  records: number;
  alerts: number;
}

/**
 * `meshward replay`: validated JSONL in, alerts JSONL out; bad lines are counted and named, never fatal. A line's
 * long params/tags keys are cut as the collector cuts them, so a file replays as the live pipeline would see it.
 */
export async function runReplayFile(opts: { input: string; out: string; config?: string }): Promise<ReplayFileResult> {
  const config = loadConfig(opts.config);
  const detectors = compileDetectors(config.detectors);
  let records = 0;
  const rejections: JsonlRejections = { rejected: 0 };
  async function* read(): AsyncGenerator<ApiCallRecord> {
    for await (const r of validJsonl(opts.input, check, 'an ApiCallRecord', rejections, boundRecord)) {
      records++;
      yield r;
    }
  }
  const alerts = await replay(read(), { detectors: detectors.create(), ...shardOptionsOf(config) });
  try {
    writeFileSync(opts.out, alerts.map((a) => JSON.stringify(a)).join('\n') + (alerts.length ? '\n' : ''));
  } catch (err) {
    throw unwritableFile(opts.out, err);
  }
  return { records, alerts: alerts.length, ...rejections };
}

import { writeFileSync } from 'node:fs';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { loadConfig } from '../config/load.js';
import { unwritableFile } from '../core/failure-line.js';
import { type ApiCallRecord, ApiCallRecordSchema } from '../core/record.js';
import { boundRecord } from '../core/record-bounds.js';
import { type JsonlRejections, validJsonl, validLines } from '../core/valid-jsonl.js';
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
 * The records of a JSONL file as `meshward replay` reads them: each line validated, its long params/tags keys cut as
 * the collector cuts them; a bad line is counted in `rejections` (the first named), never fatal
 */
export function recordsOfFile(input: string, rejections: JsonlRejections): AsyncGenerator<ApiCallRecord> {
  return validJsonl(input, check, 'an ApiCallRecord', rejections, boundRecord);
}

/** one record given as JSON text (`meshward rules test --record`), checked as a line of a file is (yielded or counted) */
export function recordOfText(text: string, rejections: JsonlRejections): AsyncGenerator<ApiCallRecord> {
  return validLines([text], check, 'an ApiCallRecord', rejections, boundRecord);
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
    for await (const r of recordsOfFile(opts.input, rejections)) {
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

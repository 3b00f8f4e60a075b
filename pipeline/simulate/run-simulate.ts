import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { unwritableFile } from '../core/failure-line.js';
import { ALL_KINDS, type AnomalyRequest } from './anomalies/index.js';
import { simulate } from './simulate.js';

export interface RunSimulateOptions {
  /** JSONL file of records, sorted by ts */
  out: string;
  /** JSONL file of labels */
  labelsOut: string;
  seed: number;
  minutes: number;
  rps?: number;
  /** anomaly kinds (or requests); `all` = one of every kind */
  anomalies: (string | AnomalyRequest)[];
  /** epoch ms of the first record (default: midnight UTC of 2024-06-03 plus 9 h) */
  start?: number;
}

/** items as JSON lines into a new file; a file that cannot be written is MW_ERR_FILE_UNWRITABLE naming it */
async function writeLines(path: string, items: readonly unknown[]): Promise<void> {
  const stream: Writable = createWriteStream(path);
  try {
    for (const item of items) {
      if (!stream.write(`${JSON.stringify(item)}\n`)) await once(stream, 'drain');
    }
    stream.end();
    await once(stream, 'finish');
  } catch (err) {
    stream.destroy();
    throw unwritableFile(path, err);
  }
}

/** the `meshward simulate` command: simulate, then write records and labels as JSON lines */
export async function runSimulate(o: RunSimulateOptions): Promise<{ records: number; labels: number }> {
  const requests: AnomalyRequest[] = [];
  for (const a of o.anomalies) {
    if (a === 'all') requests.push(...ALL_KINDS.map((kind) => ({ kind })));
    else requests.push(typeof a === 'string' ? { kind: a } : a);
  }
  const sim = simulate({
    seed: o.seed,
    start: o.start ?? Date.UTC(2024, 5, 3, 9),
    durationMs: o.minutes * 60_000,
    rps: o.rps,
    anomalies: requests,
  });
  await writeLines(o.out, sim.records);
  await writeLines(o.labelsOut, sim.labels);
  return { records: sim.records.length, labels: sim.labels.length };
}

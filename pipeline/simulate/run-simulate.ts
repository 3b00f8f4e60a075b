import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
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

async function writeLines(stream: Writable, items: readonly unknown[]): Promise<void> {
  for (const item of items) {
    if (!stream.write(`${JSON.stringify(item)}\n`)) await once(stream, 'drain');
  }
  stream.end();
  await once(stream, 'finish');
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
  await writeLines(createWriteStream(o.out), sim.records);
  await writeLines(createWriteStream(o.labelsOut), sim.labels);
  return { records: sim.records.length, labels: sim.labels.length };
}

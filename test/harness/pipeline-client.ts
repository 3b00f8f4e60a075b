import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Alert } from '../../pipeline/core/alert.js';
import type { ApiCallRecord } from '../../pipeline/core/record.js';
import { replay } from '../../pipeline/correlator/replay.js';
import { cliPath } from './meshward.js';
import type { Child } from './processes.js';

/** What cross-process tests do to a running pipeline: post records, read alerts and windows, replay offline. */

const run = promisify(execFile);

export interface PostAnswer {
  status: number;
  body: { accepted?: number; ids?: string[]; rejected?: unknown[]; code?: string; message?: string };
}

/** one POST /v1/records; the answer as it came (no retries) */
export async function postOnce(collectorUrl: string, token: string, batch: ApiCallRecord[]): Promise<PostAnswer> {
  const res = await fetch(`${collectorUrl}/v1/records`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(batch),
  });
  const text = await res.text();
  let body: PostAnswer['body'] = {};
  try {
    body = JSON.parse(text) as PostAnswer['body'];
  } catch {
    body = { message: text };
  }
  return { status: res.status, body };
}

/** posts a batch, retrying 429/503 (at most `attempts` times); every record must be accepted */
export async function postAll(
  collectorUrl: string,
  token: string,
  batch: ApiCallRecord[],
  attempts = 40,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const a = await postOnce(collectorUrl, token, batch);
    if (a.status === 200) {
      if (a.body.accepted !== batch.length) throw new Error(`collector accepted ${a.body.accepted}/${batch.length}`);
      return;
    }
    if (attempt >= attempts || ![429, 503].includes(a.status))
      throw new Error(`collector answered ${a.status}: ${JSON.stringify(a.body)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** every alert the analyst API holds, following the cursor */
export async function alertsFromApi(apiUrl: string, apiKey: string): Promise<Alert[]> {
  const out: Alert[] = [];
  let cursor = '';
  for (;;) {
    const res = await fetch(`${apiUrl}/v1/alerts?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, {
      headers: { 'x-api-key': apiKey },
    });
    if (!res.ok) throw new Error(`GET /v1/alerts: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { items: Alert[]; next?: string };
    out.push(...body.items);
    if (!body.next) return out;
    cursor = body.next;
  }
}

/**
 * polls the analyst API (every 500 ms, for at most `timeoutMs`) until it holds every alert of `expected` as it stands
 * there (same id, state and count); returns the alerts it held last, also when it never did (the test's assertions say
 * what differs)
 */
export async function waitForAlerts(
  apiUrl: string,
  apiKey: string,
  expected: Alert[],
  timeoutMs = 60_000,
): Promise<Alert[]> {
  let got: Alert[] = [];
  await waitFor(
    'the API to hold the expected alerts',
    async () => {
      got = await alertsFromApi(apiUrl, apiKey);
      return expected.every((e) => got.some((g) => g.id === e.id && g.state === e.state && g.count === e.count))
        ? true
        : undefined;
    },
    timeoutMs,
    500,
  ).catch(() => undefined);
  return got;
}

export interface WindowPoint {
  start: number;
  count: number;
  errors: number;
}

/** the stored RED windows of a service (oldest first); [] while the service is unknown */
export async function servicePoints(apiUrl: string, apiKey: string, service: string): Promise<WindowPoint[]> {
  const res = await fetch(`${apiUrl}/v1/services/${encodeURIComponent(service)}/metrics?limit=10080`, {
    headers: { 'x-api-key': apiKey },
  });
  if (res.status === 404) return [];
  if (!res.ok) throw new Error(`GET metrics of ${service}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { points: WindowPoint[] }).points;
}

/** `meshward replay` of the records with the config's detectors: the alerts an offline run gives */
export async function offlineReplay(config: string, records: ApiCallRecord[]): Promise<Alert[]> {
  const dir = mkdtempSync(join(tmpdir(), 'meshward-replay-'));
  writeFileSync(join(dir, 'records.jsonl'), records.map((r) => JSON.stringify(r)).join('\n'));
  await run(process.execPath, [
    cliPath(),
    'replay',
    join(dir, 'records.jsonl'),
    '--out',
    join(dir, 'expected.jsonl'),
    '-c',
    config,
  ]);
  return readFileSync(join(dir, 'expected.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Alert);
}

/** the records' service RED windows as an in-process replay closes them: each one's count by `<service>@<start>` */
export async function offlineWindowCounts(records: ApiCallRecord[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  await replay(records, {
    detectors: [],
    onWindows: (ws) => {
      for (const w of ws) if (w.endpoint === undefined) counts.set(`${w.service}@${w.start}`, w.count);
    },
  });
  return counts;
}

/**
 * The partitions of `topic` (default the calls topic; a keyed stream's correlator logs its own) a correlator process
 * owns now, from its `partitions assigned` / `partitions revoked` log lines (info level). Lines are pino JSON.
 */
export function ownedPartitions(child: Child, topic = 'meshward.calls'): Set<number> {
  const owned = new Set<number>();
  for (const l of child.lines()) {
    if (!l.text.startsWith('{')) continue;
    let entry: { msg?: string; partitions?: number[]; topic?: string };
    try {
      entry = JSON.parse(l.text) as typeof entry;
    } catch {
      continue;
    }
    if (entry.topic !== topic) continue;
    if (entry.msg === 'partitions assigned') for (const p of entry.partitions ?? []) owned.add(p);
    if (entry.msg === 'partitions revoked') for (const p of entry.partitions ?? []) owned.delete(p);
  }
  return owned;
}

/** the last lines of each process, for assertion messages */
export function tails(children: Child[], n = 15): string {
  return children
    .map(
      (c) =>
        `--- ${c.name}\n${c
          .lines()
          .slice(-n)
          .map((l) => l.text)
          .join('\n')}`,
    )
    .join('\n');
}

/** polls `check` until it returns a value (not undefined) or the deadline passes; returns the last attempt's value */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

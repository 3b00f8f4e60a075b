#!/usr/bin/env node
// Simulated mesh traffic posted to a running collector, like a sensor: the demo traffic of `meshward start --demo`
// (pipeline/app/live-traffic.ts: a few hours of history in fast-forward so baselines exist, then live traffic at
// wall-clock pace with a labelled anomaly of a rotating kind every few minutes). The CLI has no subcommand that
// streams to a remote collector (`meshward simulate` writes JSONL), so the compose `traffic` service runs this.
//
//   MESHWARD_COLLECTOR_URL                   collector base URL, e.g. http://collector:7071 (required)
//   MESHWARD_SENSOR_TOKEN_FILE               file holding the sensor token (first line that is not blank or #)
//   MESHWARD_SENSOR_TOKEN                    the token itself, when no file is given
//   MESHWARD_TRAFFIC_RPS                     front-end requests per second (default 8)
//   MESHWARD_TRAFFIC_BACKFILL_MINUTES        history replayed at start (default 180)
//   MESHWARD_TRAFFIC_ANOMALY_EVERY_MINUTES   how often an anomaly is injected while live (default 4)
//   MESHWARD_TRAFFIC_SEED                    random seed (default: from the clock)
import { readFileSync } from 'node:fs';
import { startLiveTraffic } from '../../dist/pipeline/app/live-traffic.js';
import { createLogger } from '../../dist/pipeline/core/logger.js';

function fail(message) {
  process.stderr.write(`meshward traffic: ${message}\n`);
  process.exit(2);
}

function readToken() {
  const file = process.env.MESHWARD_SENSOR_TOKEN_FILE;
  if (!file) return process.env.MESHWARD_SENSOR_TOKEN ?? '';
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    fail(`cannot read MESHWARD_SENSOR_TOKEN_FILE ${file}: ${err.message}`);
  }
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l && !l.startsWith('#')) ?? ''
  );
}

function positive(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) fail(`${name} must be a positive number, not "${raw}"`);
  return n;
}

const collectorUrl = (process.env.MESHWARD_COLLECTOR_URL ?? '').replace(/\/+$/, '');
if (!/^https?:\/\/[^/]+$/.test(collectorUrl))
  fail('set MESHWARD_COLLECTOR_URL to the collector, e.g. http://collector:7071');
const token = readToken();
if (token.length < 16)
  fail('set MESHWARD_SENSOR_TOKEN_FILE (or MESHWARD_SENSOR_TOKEN) to a sensor token of 16+ characters');

const logger = createLogger({ name: 'meshward-traffic' });
const seed = process.env.MESHWARD_TRAFFIC_SEED ? positive('MESHWARD_TRAFFIC_SEED', 1) : undefined;
const traffic = startLiveTraffic({
  collectorUrl,
  token,
  logger,
  rps: positive('MESHWARD_TRAFFIC_RPS', 8),
  backfillMs: positive('MESHWARD_TRAFFIC_BACKFILL_MINUTES', 180) * 60_000,
  anomalyEveryMs: positive('MESHWARD_TRAFFIC_ANOMALY_EVERY_MINUTES', 4) * 60_000,
  seed,
});
process.stdout.write(`meshward traffic: posting simulated traffic to ${collectorUrl}/v1/records\n`);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    void traffic.stop().then(() => process.exit(0));
  });
}

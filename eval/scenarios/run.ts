/**
 * `npm run eval:scenarios`: simulate traffic with every anomaly kind injected several times, replay it through the
 * correlator with the detectors, and print per-kind precision and recall. `--quick` runs one seed of each;
 * `--service-only` folds symptoms per service only (the default of a correlator that does not see the whole mesh).
 * `--partitions N` replays as a deployment of N partitions would (Kafka: records split by service over N shards,
 * folding per service only in a shard, fan_out and token_mismatch on keyed streams, the alerts stored as the API
 * stores them, folding symptoms across partitions); `--no-keyed-streams` without the streams, `--no-mesh-folding`
 * without the API's folding.
 */
import { combine, defaultPlans, runPlan } from './evaluate.js';
import { GRACE_MS, LEAD_MS } from './match.js';

const quick = process.argv.includes('--quick');
const verbose = process.argv.includes('--verbose');
const at = process.argv.indexOf('--partitions');
const partitions = at >= 0 ? Number(process.argv[at + 1]) : 1;
if (!Number.isInteger(partitions) || partitions < 1) throw new Error('--partitions: expected a whole number >= 1');
const keyedStreams = !process.argv.includes('--no-keyed-streams');
const meshFolding = !process.argv.includes('--no-mesh-folding');
// a partitioned deployment folds per service only (correlator.root_cause.across_services: auto)
const acrossServices = !process.argv.includes('--service-only') && partitions === 1;
const plans = quick ? defaultPlans({ trackerSeeds: [11], metricSeeds: [21] }) : defaultPlans();

const results = [];
let records = 0;
let replayMs = 0;
for (const plan of plans) {
  const r = await runPlan(plan, { acrossServices, partitions, keyedStreams, meshFolding });
  results.push(r);
  records += r.records;
  replayMs += r.replayMs;
  console.log(
    `${plan.name.padEnd(20)} ${String(r.records).padStart(7)} records  ${String(r.labels.length).padStart(2)} labels  ${String(r.alerts.length).padStart(3)} alerts  simulate ${(r.simulateMs / 1000).toFixed(1)} s  replay ${(r.replayMs / 1000).toFixed(1)} s`,
  );
}

const scores = combine(results);
const pct = (x: number) => (Number.isNaN(x) ? '   n/a' : `${(x * 100).toFixed(1).padStart(5)}%`);
console.log(
  `\nper-kind scores (match: kind, service, endpoint and subject where labelled, firstSeen in [start - ${LEAD_MS / 1000} s, end + ${GRACE_MS / 60_000} min])`,
);
console.log('kind                    labels found alerts   TP   recall precision');
for (const s of scores) {
  console.log(
    `${s.kind.padEnd(23)} ${String(s.labels).padStart(6)} ${String(s.found).padStart(5)} ${String(s.alerts).padStart(6)} ${String(s.truePositives).padStart(4)}  ${pct(s.recall)}    ${pct(s.precision)}`,
  );
}
console.log(
  `\n${records} records replayed in ${(replayMs / 1000).toFixed(1)} s (${Math.round(records / (replayMs / 1000))} records/s including windows and alerting)`,
);

const failing = scores.filter((s) => s.recall < 0.9 || s.precision < 0.9);
if (verbose || failing.length > 0) {
  for (const s of verbose ? scores : failing) {
    for (const m of s.missed) console.log(`missed   ${s.kind}: ${JSON.stringify(m)}`);
    for (const f of s.falsePositives.slice(0, 10))
      console.log(
        `false +  ${s.kind}: ${JSON.stringify({ service: f.service, endpoint: f.endpoint, subject: f.subject, firstSeen: f.firstSeen, summary: (f as { summary?: string }).summary })}`,
      );
  }
}
process.exitCode = failing.length > 0 ? 1 : 0;

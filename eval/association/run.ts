/**
 * `npm run eval:association`: accuracy and macro-F1 of the smart kNN (the paper's model) and of a plain majority-vote
 * kNN on the two fixed APIs-guru test splits, beside the reference figures of the dataset README.
 * Usage: node dist/eval/association/run.js [--data <dir>] [--json] [--endpoints (also endpoints as traffic shows
 * them, endpoints.ts)]
 */
import { pathToFileURL } from 'node:url';
import type { AssociationConfig } from '../../pipeline/association/config.js';
import { MajorityKnn } from '../../pipeline/association/majority-knn.js';
import { SmartKnn, UNASSIGNED, unseenProviderGroups } from '../../pipeline/association/smart-knn.js';
import { MeshwardError } from '../../pipeline/core/errors.js';
import { defaultDataDir, type GuruData, guruToDescription, loadGuru } from './data.js';
import { endpointTable, evaluateEndpoints } from './endpoints.js';
import { scores } from './metrics.js';

export const REFERENCE = {
  within: { accuracy: 0.748, macroF1: 0.406 },
  new_provider: { accuracy: 0.214, macroF1: 0.199 },
} as const;

export interface SplitResult {
  split: 'within' | 'new_provider';
  train: number;
  test: number;
  smart: {
    accuracy: number;
    macroF1: number;
    unassignedShare: number;
    /** share of the assigned predictions (at or above their threshold) that are right */
    assignedAccuracy: number;
    msPerQuery: number;
    index: string;
    /** each API on its own (no pooling of an unseen provider's APIs in the split) */
    oneAtATime: { accuracy: number; macroF1: number };
  };
  majority: { accuracy: number; macroF1: number; msPerQuery: number };
}

export function evaluate(data: GuruData, config: Partial<AssociationConfig> = {}): SplitResult[] {
  const out: SplitResult[] = [];
  for (const [split, testIds] of [
    ['within', data.testWithin],
    ['new_provider', data.testNewProvider],
  ] as const) {
    const train = data.apis.filter((a) => !testIds.has(a.id));
    const test = data.apis.filter((a) => testIds.has(a.id));
    if (test.length === 0) continue;
    const truth = test.map((a) => a.categories[0]);
    const descs = test.map(guruToDescription);

    const smart = new SmartKnn(config);
    smart.fit(train.map((a) => ({ id: a.id, api: guruToDescription(a), labels: { category: a.categories[0] } })));
    let t0 = performance.now();
    const evidence = descs.map((d) => smart.evidence(d, ['category']));
    const single = evidence.map((e) => smart.decide(e).category);
    const smartMs = (performance.now() - t0) / test.length;
    // the split as one batch: the APIs of one unseen provider are associated together (pool_unseen_provider)
    const groups = unseenProviderGroups(evidence);
    const preds = evidence.map((e) => smart.decide(e, groups.get(e.provider)).category);
    const alone = scores(
      truth,
      single.map((p) => p.candidate ?? p.value),
    );
    // accuracy counts the best class even when it is below the review threshold; the share below is reported apart
    const s = scores(
      truth,
      preds.map((p) => p.candidate ?? p.value),
    );
    const assigned = preds.map((p, i) => [p.value, truth[i]]).filter(([v]) => v !== UNASSIGNED);
    const unassigned = 1 - assigned.length / preds.length;
    const assignedAccuracy = assigned.length ? assigned.filter(([v, t]) => v === t).length / assigned.length : 0;

    const major = new MajorityKnn(7, smart.config.dims_per_group);
    major.fit(train.map((a) => ({ api: guruToDescription(a), label: a.categories[0] })));
    t0 = performance.now();
    const mp = descs.map((d) => major.predict(d) ?? '');
    const majorMs = (performance.now() - t0) / test.length;
    const m = scores(truth, mp);
    out.push({
      split,
      train: train.length,
      test: test.length,
      smart: {
        ...s,
        unassignedShare: unassigned,
        assignedAccuracy,
        msPerQuery: smartMs,
        index: smart.indexKind,
        oneAtATime: alone,
      },
      majority: { ...m, msPerQuery: majorMs },
    });
  }
  return out;
}

function table(results: SplitResult[]): string {
  const f = (x: number) => x.toFixed(3);
  const rows = ['| split | model | accuracy | macro-F1 | ms/query |', '|---|---|---|---|---|'];
  for (const r of results) {
    rows.push(
      `| ${r.split} (${r.train} train / ${r.test} test) | smart kNN (${r.smart.index}), the split as one batch | ${f(r.smart.accuracy)} | ${f(r.smart.macroF1)} | ${r.smart.msPerQuery.toFixed(2)} |`,
    );
    rows.push(
      `| | smart kNN, one API at a time (no pooling of a new provider's APIs) | ${f(r.smart.oneAtATime.accuracy)} | ${f(r.smart.oneAtATime.macroF1)} | |`,
    );
    rows.push(
      `| | majority-vote kNN (ml-knn) | ${f(r.majority.accuracy)} | ${f(r.majority.macroF1)} | ${r.majority.msPerQuery.toFixed(2)} |`,
    );
    const ref = REFERENCE[r.split];
    rows.push(`| | reference TF-IDF cosine kNN (README) | ${f(ref.accuracy)} | ${f(ref.macroF1)} | |`);
    rows.push(
      `| | smart kNN share assigned (at or above its min_confidence) | ${f(1 - r.smart.unassignedShare)} | | |`,
      `| | smart kNN accuracy of the assigned | ${f(r.smart.assignedAccuracy)} | | |`,
    );
  }
  return rows.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const i = argv.indexOf('--data');
  const dir = i !== -1 ? argv[i + 1] : defaultDataDir();
  let data: GuruData;
  try {
    data = loadGuru(dir);
  } catch (err) {
    process.stderr.write(`${err instanceof MeshwardError ? `${err.code}: ` : ''}${(err as Error).message}\n`);
    return 2;
  }
  const results = evaluate(data);
  if (argv.includes('--json')) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else {
    process.stdout.write(
      `APIs-guru association (${data.apis.length} definitions, label = categories[0], ${dir})\n\n${table(results)}\n`,
    );
    process.stdout.write('\ngoals: within accuracy >= 0.85 and macro-F1 >= 0.60; new-provider accuracy >= 0.40\n');
  }
  if (argv.includes('--endpoints'))
    process.stdout.write(
      `\nendpoints as traffic shows them (service name, host, route, parameter names; up to 5 per test definition), share right:\n\n${endpointTable(evaluateEndpoints(data))}\n`,
    );
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}

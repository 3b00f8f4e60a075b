/**
 * Association of endpoints as traffic shows them (`node dist/eval/association/run.js --endpoints`): an API-discovery
 * shard associates a shadow endpoint from its service name, host, route and parameter names only, not from an
 * OpenAPI document. Each test definition of a split becomes a service on the definition's host with up to `perApi`
 * of its endpoints (drawn with a fixed seed); each endpoint is associated alone, and the service once with all its
 * sampled routes and parameters (what its inventory holds). Accuracy per endpoint against the definition's category.
 */
import { inventoryDescription } from '../../pipeline/association/describe.js';
import type { ApiDescription } from '../../pipeline/association/features.js';
import type { AssociationConfig } from '../../pipeline/association/config.js';
import { SmartKnn } from '../../pipeline/association/smart-knn.js';
import { type GuruApi, type GuruData, guruToDescription } from './data.js';
import { Rng } from '../../pipeline/core/prng.js';

export interface EndpointFigures {
  split: 'within' | 'new_provider';
  endpoints: number;
  /** share of endpoints right, each associated alone */
  alone: number;
  /** share right when their service is associated with all its sampled routes and parameters */
  asService: number;
}

/** the service name a mesh would give the definition's API */
function serviceName(a: GuruApi): string {
  return (a.service || a.provider.split('.')[0]).toLowerCase().replace(/[^a-z0-9]+/g, '-');
}

export function evaluateEndpoints(
  data: GuruData,
  opts: { perApi?: number; seed?: number; config?: Partial<AssociationConfig> } = {},
): EndpointFigures[] {
  const perApi = opts.perApi ?? 5;
  const out: EndpointFigures[] = [];
  for (const [split, ids] of [
    ['within', data.testWithin],
    ['new_provider', data.testNewProvider],
  ] as const) {
    const test = data.apis.filter((a) => ids.has(a.id));
    if (test.length === 0) continue;
    const model = new SmartKnn(opts.config);
    model.fit(
      data.apis
        .filter((a) => !ids.has(a.id))
        .map((a) => ({ id: a.id, api: guruToDescription(a), labels: { category: a.categories[0] } })),
    );
    const best = (api: ApiDescription) => {
      const p = model.predict(api, ['category']).category;
      return p.candidate ?? p.value;
    };
    const r = new Rng(opts.seed ?? 1);
    let alone = 0;
    let asService = 0;
    let endpoints = 0;
    for (const a of test) {
      if (!a.endpoints?.length) continue;
      const sample = r.shuffle([...a.endpoints]).slice(0, perApi);
      const service = serviceName(a);
      const truth = a.categories[0];
      // the server URL as the host: the host tokens keep its host name only
      const hosts = a.servers?.slice(0, 1) ?? [];
      const params = [...new Set(sample.flatMap((e) => e.params ?? []))];
      // the service as its inventory holds it: what traffic shows of one endpoint, with every sampled route
      const whole = best({
        ...inventoryDescription({ service, route: sample[0].path, hosts, params }),
        paths: sample.map((e) => e.path),
      });
      for (const e of sample) {
        if (best(inventoryDescription({ service, route: e.path, hosts, params: e.params ?? [] })) === truth) alone++;
        if (whole === truth) asService++;
      }
      endpoints += sample.length;
    }
    const share = (n: number) => (endpoints ? n / endpoints : 0);
    out.push({ split, endpoints, alone: share(alone), asService: share(asService) });
  }
  return out;
}

export function endpointTable(figures: readonly EndpointFigures[]): string {
  const f = (x: number) => x.toFixed(3);
  const rows = ['| split | endpoints | each alone | as its service |', '|---|---|---|---|'];
  for (const x of figures) rows.push(`| ${x.split} | ${x.endpoints} | ${f(x.alone)} | ${f(x.asService)} |`);
  return rows.join('\n');
}

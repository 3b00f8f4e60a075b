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
import { rng } from './tune.js';

export interface EndpointFigures {
  split: 'within' | 'new_provider';
  endpoints: number;
  /** share of endpoints right, each associated alone */
  alone: number;
  /** share right when their service is associated with all its sampled routes and parameters */
  asService: number;
}

/** the service name a mesh would give the definition's API */
export function serviceName(a: GuruApi): string {
  return (a.service || a.provider.split('.')[0]).toLowerCase().replace(/[^a-z0-9]+/g, '-');
}

function firstHost(a: GuruApi): string | undefined {
  const h = (a.servers?.[0] ?? '').replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').split('/')[0];
  return h || undefined;
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
    const r = rng(opts.seed ?? 1);
    let alone = 0;
    let asService = 0;
    let endpoints = 0;
    for (const a of test) {
      const all = a.endpoints ?? [];
      if (all.length === 0) continue;
      const order = all.map((e) => ({ e, k: r() })).sort((x, y) => x.k - y.k);
      const sample = order.slice(0, perApi).map((x) => x.e);
      const service = serviceName(a);
      const truth = a.categories[0];
      const host = firstHost(a);
      const hosts = host ? [host] : [];
      const params = [...new Set(sample.flatMap((e) => e.params ?? []))];
      const whole = best({ name: service, service, hosts, paths: sample.map((e) => e.path), params });
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

/**
 * The traffic half of association (`peer_prior`) on a synthetic estate: APIs-guru gives the APIs' words, the call
 * graph is drawn, since no public data has both. Every provider with two or more definitions is an application
 * (appCode = the provider; lineOfBusiness = its definitions' most common category); each of its definitions is a
 * catalogued service of it, on its real hosts, but one per application (drawn with the seed), which shows up in
 * traffic as a new internal service (`n<code>` on `n<code>.apps.svc.cluster.local`: a provider the catalogue does not
 * know) with up to `perApi` endpoints, associated as an API-discovery shard does (route, parameter names; the
 * endpoints of the new service pooled). It is called by `callers` services, each with probability `homophily` a
 * catalogued service of its own application, else any catalogued service, each calling two other services too; and
 * by a gateway, a catalogued service of a platform application of its own, that calls every service. Callers weigh as
 * the API-discovery detector weighs them (CallerFanout), trusted as far as the catalogued services' callers tell
 * their class (peerReliability). Accuracy per endpoint, per dimension.
 * Usage: node dist/eval/association/estate.js [--data <dir>] [--homophily 0,0.25,0.5,0.75,1] [--prior 0,0.25,0.5,1]
 */
import { pathToFileURL } from 'node:url';
import { inventoryDescription } from '../../pipeline/association/describe.js';
import type { ApiDescription } from '../../pipeline/association/features.js';
import { type Labels, SmartKnn, type TrainingItem } from '../../pipeline/association/smart-knn.js';
import { CallerFanout } from '../../pipeline/association/caller-fanout.js';
import { peerReliability } from '../../pipeline/association/peer-mix.js';
import type { TrafficContext } from '../../pipeline/association/traffic-context.js';
import { Rng } from '../../pipeline/core/prng.js';
import { defaultDataDir, type GuruApi, type GuruData, guruToDescription, loadGuru } from './data.js';

export const ESTATE_DIMS = ['appCode', 'lineOfBusiness', 'category'] as const;
type Dim = (typeof ESTATE_DIMS)[number];

export interface EstateOptions {
  homophily: number;
  /** peer_prior of appCode and lineOfBusiness */
  prior: number;
  /** peer_prior of category (off by default: callers say which application, not what kind of API) */
  categoryPrior?: number;
  callers?: number;
  perApi?: number;
  seed?: number;
}

/** share of endpoints right per dimension at one homophily, with the callers' reliability estimated there */
export type EstateFigures = Record<Dim, number> & {
  homophily: number;
  reliability: Readonly<Record<string, number>>;
  endpoints: number;
  services: number;
};

/** a service name of letters only (one token, never shared by chance): the prefix and n in base-26 letters */
function code(prefix: string, n: number): string {
  let s = '';
  let x = n;
  do {
    s = String.fromCharCode(97 + (x % 26)) + s;
    x = Math.floor(x / 26);
  } while (x > 0);
  return prefix + s;
}

interface Estate {
  training: TrainingItem[];
  /** catalogued services per application */
  services: Map<string, string[]>;
  allServices: string[];
  held: { api: GuruApi; app: string; lob: string; service: string }[];
}

function buildEstate(data: GuruData, seed: number): Estate {
  const byApp = new Map<string, GuruApi[]>();
  for (const a of data.apis) {
    const defs = byApp.get(a.provider);
    if (defs) defs.push(a);
    else byApp.set(a.provider, [a]);
  }
  const r = new Rng(seed);
  const training: TrainingItem[] = [];
  const services = new Map<string, string[]>();
  const held: Estate['held'] = [];
  let n = 0;
  for (const [app, defs] of [...byApp].sort(([x], [y]) => (x < y ? -1 : 1))) {
    if (defs.length < 2) continue;
    const counts = new Map<string, number>();
    for (const d of defs) counts.set(d.categories[0], (counts.get(d.categories[0]) ?? 0) + 1);
    const lob = [...counts].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))[0][0];
    const out = r.int(0, defs.length - 1);
    const names: string[] = [];
    defs.forEach((d, i) => {
      const number = n++;
      const service = code('s', number);
      if (i === out) {
        held.push({ api: d, app, lob, service: code('n', number) });
        return;
      }
      names.push(service);
      const labels: Labels = { appCode: app, lineOfBusiness: lob, category: d.categories[0] };
      training.push({ id: d.id, api: { ...guruToDescription(d), service }, labels });
    });
    services.set(app, names);
  }
  training.push({
    id: 'platform/gateway',
    api: { name: 'API gateway', service: 'gateway', hosts: ['gateway.platform.svc.cluster.local'] },
    labels: { appCode: 'platform', lineOfBusiness: 'platform', category: 'developer_tools' },
  });
  return { training, services, allServices: [...services.values()].flat(), held };
}

/**
 * the call graph at one homophily: callers of every service (catalogued and new), each caller calling two other
 * services too, the gateway calling all; the traffic context an API-discovery shard would build from it (callers
 * weighed by fan-out, their reliability from the catalogued services' callers)
 */
function callGraph(
  estate: Estate,
  o: Required<EstateOptions>,
  model: SmartKnn,
): { callersOf: Map<string, string[]>; traffic: TrafficContext } {
  const r = new Rng(o.seed + 1);
  const fanout = new CallerFanout();
  const pick = <T>(xs: readonly T[]): T => xs[r.int(0, xs.length - 1)];
  const callersOf = new Map<string, string[]>();
  const draw = (service: string, app: string) => {
    const own = (estate.services.get(app) ?? []).filter((s) => s !== service);
    const callers: string[] = [];
    for (let i = 0; i < o.callers; i++) {
      const c = r.next() < o.homophily && own.length > 0 ? pick(own) : pick(estate.allServices);
      callers.push(c);
      fanout.note(c, service);
      fanout.note(c, pick(estate.allServices));
      fanout.note(c, pick(estate.allServices));
    }
    fanout.note('gateway', service);
    callersOf.set(service, [...callers, 'gateway']);
  };
  for (const [app, services] of estate.services) for (const s of services) draw(s, app);
  for (const h of estate.held) draw(h.service, h.app);
  const known = estate.training.map((t) => ({
    service: t.api.service ?? '',
    labels: t.labels,
    peers: fanout.peers(callersOf.get(t.api.service ?? '') ?? []),
  }));
  const traffic: TrafficContext = {
    peers: (callers) => fanout.peers(callers),
    reliability: peerReliability(known, (d, p, self) => model.peerEvidence(d, p, self), ESTATE_DIMS),
  };
  return { callersOf, traffic };
}

/** the endpoints of the held-out services, each described as traffic shows it, with its callers */
function queries(
  estate: Estate,
  o: Required<EstateOptions>,
  model: SmartKnn,
): { items: { api: ApiDescription; truth: Record<Dim, string> }[]; reliability: TrafficContext['reliability'] } {
  const graph = callGraph(estate, o, model);
  const r = new Rng(o.seed + 2);
  const out: { api: ApiDescription; truth: Record<Dim, string> }[] = [];
  for (const h of estate.held) {
    const eps = r.shuffle([...(h.api.endpoints ?? [])]).slice(0, o.perApi);
    const callers = graph.callersOf.get(h.service) ?? [];
    const hosts = [`${h.service}.apps.svc.cluster.local`];
    const truth = { appCode: h.app, lineOfBusiness: h.lob, category: h.api.categories[0] };
    for (const e of eps)
      out.push({
        api: inventoryDescription(
          { service: h.service, route: e.path, hosts, params: e.params ?? [], callers },
          graph.traffic,
        ),
        truth,
      });
  }
  return { items: out, reliability: graph.traffic.reliability };
}

/** share of endpoints right per dimension at each homophily, one model (one fit) for the peer_prior given */
export function evaluateEstate(
  data: GuruData,
  homophilies: readonly number[],
  opts: Omit<EstateOptions, 'homophily'>,
): EstateFigures[] {
  const o = { categoryPrior: 0, callers: 2, perApi: 5, seed: 1, ...opts };
  const estate = buildEstate(data, o.seed);
  const model = new SmartKnn({
    peer_prior: { appCode: o.prior, lineOfBusiness: o.prior, category: o.categoryPrior },
  });
  model.fit(estate.training);
  return homophilies.map((homophily) => {
    const { items: qs, reliability } = queries(estate, { ...o, homophily }, model);
    const preds = model.predictBatch(
      qs.map((q) => q.api),
      ESTATE_DIMS,
    );
    const figures = { homophily, reliability, endpoints: qs.length, services: estate.held.length } as EstateFigures;
    for (const dim of ESTATE_DIMS) {
      let right = 0;
      qs.forEach((q, i) => {
        const p = preds[i][dim];
        if ((p?.candidate ?? p?.value) === q.truth[dim]) right++;
      });
      figures[dim] = qs.length ? right / qs.length : 0;
    }
    return figures;
  });
}

function main(argv: string[]): void {
  const at = (flag: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
  const data = loadGuru(at('--data') ?? defaultDataDir());
  const list = (s: string) => s.split(',').map(Number);
  const homophilies = list(at('--homophily') ?? '0,0.25,0.5,0.75,1');
  const priors = list(at('--prior') ?? '0,0.25,0.5,1');
  const f = (x: number) => x.toFixed(3);
  const rows = [
    "| homophily | callers' reliability (appCode / lineOfBusiness / category) | peer_prior | appCode | lineOfBusiness | category (peer_prior the same) |",
    '|---|---|---|---|---|---|',
  ];
  let shape = '';
  for (const prior of priors)
    for (const x of evaluateEstate(data, homophilies, { prior, categoryPrior: prior })) {
      shape = `${x.services} new services, ${x.endpoints} endpoints`;
      const rel = ESTATE_DIMS.map((d) => (x.reliability[d] === undefined ? '-' : f(x.reliability[d]))).join(' / ');
      rows.push(`| ${x.homophily} | ${rel} | ${prior} | ${f(x.appCode)} | ${f(x.lineOfBusiness)} | ${f(x.category)} |`);
    }
  process.stdout.write(`synthetic estate on APIs-guru (${shape}), share of endpoints right\n\n${rows.join('\n')}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main(process.argv.slice(2));

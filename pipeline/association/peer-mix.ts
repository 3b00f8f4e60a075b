import { NestedCounts } from './nested-counts.js';

/**
 * The traffic side of an association (extension to the paper): the services that call an API. A new service is
 * mostly called by the services of its own application, so the classes of its callers' catalogued APIs are evidence
 * of its line of business and application code (not of its API category: a payment service's callers are shops).
 */

/** the services calling an API, each with the weight of its evidence in (0, 1] (1: it calls nothing else) */
export type Peers = Readonly<Record<string, number>>;

/** a caller as a service name: lower case; a SPIFFE ID (`spiffe://td/ns/shop/sa/orders`) by its service account */
export function peerName(caller: string): string {
  const c = caller.trim().toLowerCase();
  if (!c.startsWith('spiffe://')) return c;
  const sa = c.match(/\/sa\/([^/]+)$/);
  return sa ? sa[1] : c;
}

/** a class distribution (shares summing to 1) and the weight of the evidence behind it (the peers' summed weights) */
export interface PeerEvidence {
  mix: Map<string, number>;
  mass: number;
  /** the peers whose catalogued APIs made the mix, heaviest first */
  peers: string[];
}

/** training APIs per class, per service, per dimension: what a peer's name says */
export class ServiceClassMix {
  private readonly counts = new NestedCounts();

  add(service: string | undefined, dim: string, cls: string, delta = 1): void {
    if (service) this.counts.add(dim, peerName(service), cls, delta);
  }

  clear(): void {
    this.counts.clear();
  }

  /**
   * the weighted mean of the known peers' class distributions (each peer's catalogued APIs as shares, times its
   * weight); null when no peer (but `self`, the API's own service) has a catalogued API labelled in the dimension
   */
  evidence(dim: string, peers: Peers, self?: string): PeerEvidence | null {
    const own = self ? peerName(self) : undefined;
    const mix = new Map<string, number>();
    const used: [string, number][] = [];
    let mass = 0;
    for (const [name, w] of Object.entries(peers)) {
      const counts = name === own || !(w > 0) ? undefined : this.counts.get(dim, name);
      if (!counts) continue;
      let total = 0;
      for (const n of counts.values()) total += n;
      const weight = Math.min(1, w);
      for (const [c, n] of counts) mix.set(c, (mix.get(c) ?? 0) + (weight * n) / total);
      mass += weight;
      used.push([name, weight]);
    }
    if (mass === 0) return null;
    for (const [c, x] of mix) mix.set(c, x / mass);
    return { mix, mass, peers: used.sort((a, b) => b[1] - a[1]).map(([n]) => n) };
  }
}

/**
 * (1 - λ) P + λ Q, in place, over `classes`: P the probabilities, Q a class distribution (a provider's or the
 * callers' mix)
 */
export function blendClassMix(
  probs: Map<string, number>,
  dist: (cls: string) => number,
  lambda: number,
  classes: Iterable<string>,
): void {
  if (!(lambda > 0)) return;
  for (const c of classes) probs.set(c, (1 - lambda) * (probs.get(c) ?? 0) + lambda * dist(c));
}

/** labelled endpoints with known callers needed before callers' reliability in a dimension is known (else no blend) */
export const MIN_RELIABILITY_EVIDENCE = 5;

/** an endpoint whose labels are known (catalogued or reviewed), with its callers weighed */
export interface LabelledEndpoint {
  service: string;
  labels: Readonly<Record<string, string>>;
  peers: Peers;
}

/**
 * how far callers tell the class of what they call, per dimension, beyond chance (as Cohen's kappa): over endpoints
 * whose labels are known, r the probability their callers' mix gives their own class (each endpoint weighed by its
 * callers' summed weights, at most 1), r0 the same if callers were drawn at random (the mean mix against the mean
 * truth: most classes being one makes r high by chance), (r - r0) / (1 - r0), at least 0. Near 1 where every service
 * is called only by its own application's, 0 where callers are anyone. Dimensions with fewer than
 * MIN_RELIABILITY_EVIDENCE such endpoints are left out (not known)
 */
export function peerReliability(
  endpoints: Iterable<LabelledEndpoint>,
  evidence: (dim: string, peers: Peers, self: string) => PeerEvidence | null,
  dims: readonly string[],
): Record<string, number> {
  type Acc = { n: number; hit: number; weight: number; mix: Map<string, number>; truth: Map<string, number> };
  const acc = new Map<string, Acc>();
  for (const e of endpoints)
    for (const dim of dims) {
      const truth = e.labels[dim];
      if (!truth) continue;
      const ev = evidence(dim, e.peers, e.service);
      if (!ev) continue;
      let a = acc.get(dim);
      if (!a) {
        a = { n: 0, hit: 0, weight: 0, mix: new Map(), truth: new Map() };
        acc.set(dim, a);
      }
      const w = Math.min(1, ev.mass);
      a.n++;
      a.hit += w * (ev.mix.get(truth) ?? 0);
      a.weight += w;
      a.truth.set(truth, (a.truth.get(truth) ?? 0) + w);
      for (const [c, x] of ev.mix) a.mix.set(c, (a.mix.get(c) ?? 0) + w * x);
    }
  const out: Record<string, number> = {};
  for (const [dim, a] of acc) {
    if (a.n < MIN_RELIABILITY_EVIDENCE || a.weight <= 0) continue;
    let chance = 0;
    for (const [c, t] of a.truth) chance += ((a.mix.get(c) ?? 0) / a.weight) * (t / a.weight);
    const r = a.hit / a.weight;
    out[dim] = chance >= 1 ? 0 : Math.max(0, (r - chance) / (1 - chance));
  }
  return out;
}

/** the share of a distribution's largest class */
export function purity(mix: ReadonlyMap<string, number>): number {
  let total = 0;
  let largest = 0;
  for (const x of mix.values()) {
    total += x;
    largest = Math.max(largest, x);
  }
  return total > 0 ? largest / total : 0;
}

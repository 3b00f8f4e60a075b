import type { ApiEntry } from '../inventory/api-entry.js';
import { isObject, own, str, stringList } from '../inventory/catalog/validate.js';
import { CallerFanout } from './caller-fanout.js';
import { type LabelledEndpoint, type Peers, peerReliability } from './peer-mix.js';
import type { SmartKnn } from './smart-knn.js';
import { Rng } from '../core/prng.js';

/** what traffic says of an endpoint beyond its own attributes: its callers, weighed, and how far callers tell a class */
export interface TrafficContext {
  peers(callers: readonly string[]): Peers;
  /** per dimension (peerReliability); a dimension left out takes no evidence from callers */
  reliability: Readonly<Record<string, number>>;
}

type EntryLike = Pick<ApiEntry, 'service' | 'callers' | 'labels' | 'state'>;

/**
 * labelled endpoints the callers' reliability is estimated from, at most: a random sample of them beyond (the
 * estimate's standard error is then about 0.01–0.02, and a scan of a 50,000-endpoint inventory stays well under a
 * second); seeded, so the same inventory gives the same estimate
 */
export const RELIABILITY_SAMPLE = 2000;
const RELIABILITY_SAMPLE_SEED = 7;

/**
 * the endpoints of an inventory whose labels are known (catalogued or reviewed) and callers are known, their callers
 * weighed by `fanout`: every one, or `size` of them drawn at random
 */
function* labelledEndpoints(
  entries: readonly EntryLike[],
  fanout: CallerFanout,
  size: number,
): Iterable<LabelledEndpoint> {
  const known = entries.filter((e) => (e.state === 'catalogued' || e.state === 'reviewed') && e.callers.length > 0);
  const sample = known.length > size ? new Rng(RELIABILITY_SAMPLE_SEED).shuffle(known).slice(0, size) : known;
  for (const e of sample) {
    const labels: Record<string, string> = {};
    for (const [dim, l] of Object.entries(e.labels)) if (l.probability >= 1) labels[dim] = l.value;
    yield { service: e.service, labels, peers: fanout.peers(e.callers) };
  }
}

/** no callers known: nothing blended */
export const NO_TRAFFIC: TrafficContext = { peers: () => ({}), reliability: {} };

/**
 * the traffic context of an inventory's entries (a shard's, or an export's): each caller weighed by the services it
 * calls among them (CallerFanout), the callers' reliability from the catalogued and reviewed entries, as `model`
 * knows the callers' services (`sample`: how many of those at most; the benchmark sets it to compare)
 */
export function inventoryTraffic(
  entries: readonly EntryLike[],
  model: SmartKnn,
  dims: readonly string[],
  sample = RELIABILITY_SAMPLE,
): TrafficContext {
  const fanout = new CallerFanout();
  for (const e of entries) {
    fanout.note(undefined, e.service);
    for (const c of e.callers) fanout.note(c, e.service);
  }
  const evidence = (d: string, p: Peers, self: string) => model.peerEvidence(d, p, self);
  return {
    peers: (callers) => fanout.peers(callers),
    reliability: peerReliability(labelledEndpoints(entries, fanout, sample), evidence, dims),
  };
}

/** an inventory export's entries (the associate command's input), loosely typed: those with a service and callers */
function entriesOf(items: readonly Record<string, unknown>[]): EntryLike[] {
  const out: EntryLike[] = [];
  for (const v of items) {
    const service = str(v.service);
    if (service === undefined || !Array.isArray(v.callers)) continue;
    const labels: EntryLike['labels'] = {};
    if (isObject(v.labels))
      for (const [dim, l] of Object.entries(v.labels)) {
        const value = str(own(l, 'value'));
        const probability = own(l, 'probability');
        if (value !== undefined && typeof probability === 'number')
          labels[dim] = { value, probability, neighbours: [] };
      }
    const state = (str(v.state) ?? 'new') as EntryLike['state'];
    out.push({ service, callers: stringList(v.callers), labels, state });
  }
  return out;
}

/** the traffic context of an inventory export (the associate command's input; see inventoryTraffic) */
export function exportTraffic(
  items: readonly Record<string, unknown>[],
  model: SmartKnn,
  dims: readonly string[],
): TrafficContext {
  return inventoryTraffic(entriesOf(items), model, dims);
}

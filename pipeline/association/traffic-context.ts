import type { ApiEntry } from '../inventory/api-entry.js';
import { CallerFanout } from './caller-fanout.js';
import { type LabelledEndpoint, type Peers, peerReliability } from './peer-mix.js';
import type { SmartKnn } from './smart-knn.js';

/** what traffic says of an endpoint beyond its own attributes: its callers, weighed, and how far callers tell a class */
export interface TrafficContext {
  peers(callers: readonly string[]): Peers;
  /** per dimension (peerReliability); a dimension left out takes no evidence from callers */
  reliability: Readonly<Record<string, number>>;
}

type EntryLike = Pick<ApiEntry, 'service' | 'callers' | 'labels' | 'state'>;

/** the endpoints of an inventory whose labels are known (catalogued or reviewed), their callers weighed by `fanout` */
export function* labelledEndpoints(entries: Iterable<EntryLike>, fanout: CallerFanout): Iterable<LabelledEndpoint> {
  for (const e of entries) {
    if ((e.state !== 'catalogued' && e.state !== 'reviewed') || e.callers.length === 0) continue;
    const labels: Record<string, string> = {};
    for (const [dim, l] of Object.entries(e.labels)) if (l.probability >= 1) labels[dim] = l.value;
    yield { service: e.service, labels, peers: fanout.peers(e.callers) };
  }
}

/** the callers' reliability per dimension, over an inventory's labelled endpoints, as `model` knows their callers */
export function inventoryReliability(
  entries: Iterable<EntryLike>,
  fanout: CallerFanout,
  model: SmartKnn,
  dims: readonly string[],
): Record<string, number> {
  return peerReliability(labelledEndpoints(entries, fanout), (d, p, s) => model.peerEvidence(d, p, s), dims);
}

/** an inventory export's entries (the associate command's input), loosely typed: those with a service and callers */
function entriesOf(items: readonly Record<string, unknown>[]): EntryLike[] {
  const out: EntryLike[] = [];
  for (const v of items) {
    if (typeof v.service !== 'string' || !Array.isArray(v.callers)) continue;
    const callers = v.callers.filter((c): c is string => typeof c === 'string');
    const labels: EntryLike['labels'] = {};
    if (v.labels && typeof v.labels === 'object')
      for (const [dim, l] of Object.entries(v.labels as Record<string, unknown>)) {
        const x = l as { value?: unknown; probability?: unknown } | null;
        if (typeof x?.value === 'string' && typeof x.probability === 'number')
          labels[dim] = { value: x.value, probability: x.probability, neighbours: [] };
      }
    const state = typeof v.state === 'string' ? (v.state as EntryLike['state']) : 'new';
    out.push({ service: v.service, callers, labels, state });
  }
  return out;
}

/**
 * the traffic context of an inventory export: each caller weighed by the services it calls in the export, the
 * callers' reliability from its catalogued and reviewed entries
 */
export function exportTraffic(
  items: readonly Record<string, unknown>[],
  model: SmartKnn,
  dims: readonly string[],
): TrafficContext {
  const entries = entriesOf(items);
  const fanout = new CallerFanout();
  for (const e of entries) for (const c of e.callers) fanout.note(c, e.service);
  return {
    peers: (callers) => fanout.peers(callers),
    reliability: inventoryReliability(entries, fanout, model, dims),
  };
}

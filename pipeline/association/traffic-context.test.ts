import { describe, expect, it, vi } from 'vitest';
import type { ApiEntry } from '../inventory/api-entry.js';
import { Rng } from '../core/prng.js';
import { SmartKnn } from './smart-knn.js';
import { inventoryTraffic } from './traffic-context.js';

type Entry = Pick<ApiEntry, 'service' | 'callers' | 'labels' | 'state'>;

/** 40 services in 4 applications, 15 endpoints each; each endpoint's 4 callers from its own application 3 times in 4 */
function estate(): { model: SmartKnn; entries: Entry[] } {
  const r = new Rng(5);
  const app = (s: number) => `APP${s % 4}`;
  const model = new SmartKnn({ word_embeddings: 'off' });
  model.fit(
    Array.from({ length: 40 }, (_, s) => ({
      id: `c${s}`,
      api: { service: `s${s}`, hosts: [`s${s}.shop.svc.cluster.local`] },
      labels: { appCode: app(s) },
    })),
  );
  const entries: Entry[] = [];
  for (let s = 0; s < 40; s++)
    for (let e = 0; e < 15; e++) {
      const callers = Array.from({ length: 4 }, () => `s${r.next() < 0.75 ? r.int(0, 9) * 4 + (s % 4) : r.int(0, 39)}`);
      const state = e === 0 ? 'new' : 'catalogued';
      entries.push({
        service: `s${s}`,
        callers,
        state,
        labels: { appCode: { value: app(s), probability: 1, neighbours: [] } },
      });
    }
  return { model, entries };
}

describe('the traffic context of an inventory', () => {
  it("estimates the callers' reliability from a seeded sample of the labelled endpoints, near the full estimate", () => {
    const { model, entries } = estate();
    const spy = vi.spyOn(model, 'peerEvidence');
    const full = inventoryTraffic(entries, model, ['appCode'], Number.POSITIVE_INFINITY).reliability.appCode;
    // every catalogued endpoint (the 40 new ones are not labelled), one dimension
    expect(spy).toHaveBeenCalledTimes(40 * 14);
    spy.mockClear();
    const sampled = inventoryTraffic(entries, model, ['appCode'], 200).reliability.appCode;
    expect(spy).toHaveBeenCalledTimes(200);
    // 3 in 4 callers of the own application, the rest anyone's: well above chance, the sample within a few points
    expect(full).toBeGreaterThan(0.5);
    expect(Math.abs(sampled - full)).toBeLessThan(0.05);
    expect(inventoryTraffic(entries, model, ['appCode'], 200).reliability.appCode).toBe(sampled);
  });
});

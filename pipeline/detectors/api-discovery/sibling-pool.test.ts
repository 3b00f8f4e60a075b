import { describe, expect, it } from 'vitest';
import { SmartKnn } from '../../association/smart-knn.js';
import { POOL_MAX_PER_PROVIDER, POOL_MAX_PROVIDERS, SiblingPool } from './sibling-pool.js';

const model = () => {
  const m = new SmartKnn({ k: 2, linear_blend: 0, word_embeddings: 'off' });
  m.fit([
    {
      id: 'pay',
      api: { description: 'card payments refunds', hosts: ['api.pay.com'] },
      labels: { category: 'payment' },
    },
    {
      id: 'shop',
      api: { description: 'orders cart checkout', hosts: ['api.shop.com'] },
      labels: { category: 'ecommerce' },
    },
  ]);
  return m;
};

describe('SiblingPool', () => {
  it("keeps the latest endpoints of each unseen provider, never a known provider's or a hostless one", () => {
    const m = model();
    const pool = new SiblingPool(m, () => undefined);
    const ev = (i: number, host?: string) =>
      m.evidence({ description: `refund ${i}`, ...(host ? { hosts: [host] } : {}) }, ['category']);
    const all = Array.from({ length: POOL_MAX_PER_PROVIDER + 8 }, (_, i) => ev(i, `s${i}.newco.io`));
    for (const [i, e] of all.entries()) pool.add(`e${i}`, e);
    expect(pool.siblings(ev(99, 'x.newco.io')).map((m) => m.evidence)).toEqual(all.slice(8));
    // an endpoint added again counts once, with its latest evidence
    pool.add('e39', all[0]);
    expect(pool.siblings(ev(99, 'x.newco.io')).map((m) => m.id)).toEqual([
      ...all.slice(8, -1).map((_, i) => `e${i + 8}`),
      'e39',
    ]);
    pool.add('k', ev(1, 'api.pay.com'));
    pool.add('h', ev(2));
    expect(pool.siblings(ev(3, 'www.pay.com'))).toEqual([]);
    expect(pool.siblings(ev(4))).toEqual([]);
    // the providers used last are kept
    for (let p = 0; p < POOL_MAX_PROVIDERS; p++) pool.add(`p${p}`, ev(p, `api.p${p}.dev`));
    expect(pool.siblings(ev(0, 'x.newco.io'))).toEqual([]);
    expect(pool.siblings(ev(0, 'x.p5.dev'))).toHaveLength(1);
  });

  it('takes the evidence again after the model changed (a review), drops endpoints gone, keeps none when off', () => {
    const m = model();
    const described = new Map([
      ['a', { description: 'refunds', hosts: ['api.newco.io'] }],
      ['b', { description: 'cart checkout', hosts: ['eu.newco.io'] }],
    ]);
    const pool = new SiblingPool(m, (id) => described.get(id));
    for (const [id, api] of described) pool.add(id, m.evidence(api, ['category']));
    const query = m.evidence({ description: 'payouts', hosts: ['x.newco.io'] }, ['category']);
    const before = pool.siblings(query);
    expect(before.map((x) => x.id)).toEqual(['a', 'b']);
    // a review elsewhere: the endpoints' evidence is taken again with the model as it is now; b is gone
    m.confirm('other', { description: 'refunds weather', hosts: ['api.rain.org'] }, { category: 'weather' });
    described.delete('b');
    const after = pool.siblings(query);
    expect(after.map((x) => [x.id, x.version])).toEqual([['a', m.version]]);
    expect(after[0].evidence).toEqual(m.evidence(described.get('a')!, ['category']));
    expect(after[0].evidence.dims.get('category')?.probs.get('weather')).toBeGreaterThan(0);
    expect(before[0].evidence.dims.get('category')?.probs.has('weather')).toBe(false);
    const off = new SmartKnn({ k: 2, linear_blend: 0, word_embeddings: 'off', pool_unseen_provider: false });
    off.fit([{ id: 'a', api: { description: 'refunds', hosts: ['api.pay.com'] }, labels: { category: 'payment' } }]);
    const offPool = new SiblingPool(off, () => undefined);
    const e = off.evidence({ description: 'refunds', hosts: ['api.newco.io'] }, ['category']);
    offPool.add('a', e);
    expect(offPool.siblings(e)).toEqual([]);
  });
});

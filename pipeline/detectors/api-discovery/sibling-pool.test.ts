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
    const pool = new SiblingPool(m);
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

  it('forgets what it holds when the model changes (a review), and keeps nothing with pooling off', () => {
    const m = model();
    const pool = new SiblingPool(m);
    const ev = () => m.evidence({ description: 'refunds', hosts: ['api.newco.io'] }, ['category']);
    pool.add('a', ev());
    expect(pool.siblings(ev())).toHaveLength(1);
    m.confirm('other', { description: 'weather', hosts: ['api.rain.org'] }, { category: 'weather' });
    expect(pool.siblings(ev())).toEqual([]);
    const off = new SmartKnn({ k: 2, linear_blend: 0, word_embeddings: 'off', pool_unseen_provider: false });
    off.fit([{ id: 'a', api: { description: 'refunds', hosts: ['api.pay.com'] }, labels: { category: 'payment' } }]);
    const offPool = new SiblingPool(off);
    const e = off.evidence({ description: 'refunds', hosts: ['api.newco.io'] }, ['category']);
    offPool.add('a', e);
    expect(offPool.siblings(e)).toEqual([]);
  });
});

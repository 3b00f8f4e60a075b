import { describe, expect, it } from 'vitest';
import { CallerFanout } from './caller-fanout.js';
import type { ApiDescription } from './features.js';
import { MIN_RELIABILITY_EVIDENCE, peerName, peerReliability, purity, ServiceClassMix } from './peer-mix.js';
import { SmartKnn } from './smart-knn.js';

describe('callers as evidence (peer_prior)', () => {
  it('names a caller by its service, a SPIFFE ID by its service account', () => {
    expect(peerName(' Orders-UI ')).toBe('orders-ui');
    expect(peerName('spiffe://cluster.local/ns/shop/sa/checkout')).toBe('checkout');
    expect(peerName('spiffe://cluster.local/ns/shop')).toBe('spiffe://cluster.local/ns/shop');
  });

  it("mixes the callers' classes, each caller by its weight; the API's own service and unknown callers left out", () => {
    const m = new ServiceClassMix();
    for (let i = 0; i < 3; i++) m.add('orders', 'appCode', 'ORD');
    m.add('web', 'appCode', 'ORD');
    m.add('web', 'appCode', 'WEB');
    const ev = m.evidence('appCode', { orders: 1, web: 0.5, stranger: 1, self: 1 }, 'SELF');
    // orders: ORD 1 x 1; web: ORD 0.5 x 0.5, WEB 0.5 x 0.5; over the mass 1.5
    expect(ev?.mass).toBe(1.5);
    expect(ev?.mix.get('ORD')).toBeCloseTo(1.25 / 1.5, 12);
    expect(ev?.mix.get('WEB')).toBeCloseTo(0.25 / 1.5, 12);
    expect(ev?.peers).toEqual(['orders', 'web']);
    expect(m.evidence('appCode', { orders: 1 }, 'orders')).toBeNull();
    expect(m.evidence('category', { orders: 1 })).toBeNull();
    m.add('orders', 'appCode', 'ORD', -3);
    expect(m.evidence('appCode', { orders: 1 })).toBeNull();
    expect(
      purity(
        new Map([
          ['a', 3],
          ['b', 1],
        ]),
      ),
    ).toBe(0.75);
  });

  it('a caller weighs by the share of services it does not call: 1 for one of many, 0 for a gateway calling all', () => {
    const f = new CallerFanout();
    for (let i = 0; i < 9; i++) f.note('gateway', `s${i}`);
    f.note('orders-ui', 's0');
    f.note('orders-ui', 's0');
    f.note(undefined, 's9');
    expect(f.weight('gateway')).toBeCloseTo(Math.log(10 / 9) / Math.log(10), 12);
    expect(f.weight('orders-ui')).toBe(1);
    expect(f.weight('never-seen')).toBe(1);
    const p = f.peers(['Orders-UI', 'gateway', 'spiffe://td/ns/x/sa/gateway']);
    expect(Object.keys(p).sort()).toEqual(['gateway', 'orders-ui']);
    for (let i = 0; i < 10; i++) f.note('gateway', `s${i}`);
    expect(f.weight('gateway')).toBe(0);
  });

  it("reliability is beyond chance: 1 when callers are their callees' own, 0 when they are anyone", () => {
    const apps = ['A', 'B', 'C', 'D'];
    const evidence = (_dim: string, peers: Record<string, number>) => {
      const mix = new Map<string, number>();
      for (const p of Object.keys(peers)) mix.set(p.toUpperCase(), 1 / Object.keys(peers).length);
      return { mix, mass: Object.keys(peers).length, peers: Object.keys(peers) };
    };
    const own = apps.flatMap((a) =>
      [1, 2].map(() => ({ service: a, labels: { appCode: a }, peers: { [a.toLowerCase()]: 1 } })),
    );
    expect(peerReliability(own, evidence, ['appCode']).appCode).toBe(1);
    // every endpoint called by one caller of each application: the mix gives its class 1/4, as chance does
    const anyone = own.map((e) => ({ ...e, peers: { a: 1, b: 1, c: 1, d: 1 } }));
    expect(peerReliability(anyone, evidence, ['appCode']).appCode).toBeCloseTo(0, 12);
    expect(peerReliability(own.slice(0, MIN_RELIABILITY_EVIDENCE - 1), evidence, ['appCode'])).toEqual({});
  });

  describe('in the model', () => {
    const internal = (service: string, route: string, params: string[] = []): ApiDescription => ({
      name: service,
      service,
      hosts: [`${service}.shop.svc.cluster.local`],
      paths: [route],
      params,
    });
    const model = () => {
      const m = new SmartKnn({ k: 4, word_embeddings: 'off', linear_blend: 0, min_confidence: 0 });
      m.fit([
        {
          id: 'o1',
          api: internal('orders', '/orders/{id}', ['status']),
          labels: { appCode: 'ORD', category: 'ecommerce' },
        },
        { id: 'o2', api: internal('orders-ui', '/cart', ['item']), labels: { appCode: 'ORD', category: 'ecommerce' } },
        {
          id: 'p1',
          api: internal('payments', '/payments/{id}', ['amount']),
          labels: { appCode: 'PAY', category: 'payment' },
        },
        { id: 'p2', api: internal('pay-ui', '/checkout', ['card']), labels: { appCode: 'PAY', category: 'payment' } },
      ]);
      return m;
    };
    // a new service whose words lean to payments (amount), called by the orders UI
    const refunds = {
      ...internal('refunds', '/refunds/{id}', ['amount']),
      unobserved: ['text', 'tags'],
    } as ApiDescription;

    it("an unseen provider's endpoint leans to its callers' application, says so, and only as far as callers are reliable", () => {
      const m = model();
      const alone = m.predict(refunds);
      expect(alone.appCode.value).toBe('PAY');
      const called = m.predict({ ...refunds, peers: { 'orders-ui': 1 }, peerReliability: { appCode: 1, category: 1 } });
      expect(called.appCode.value).toBe('ORD');
      expect(called.appCode.probability).toBeGreaterThan(alone.appCode.probability);
      expect(called.appCode.because?.[0]).toBe('callers orders-ui');
      // category is not in the default peer_prior: callers say which application, not what kind of API
      expect(called.category).toEqual(alone.category);
      // no reliability known, or none: the callers are not used
      expect(m.predict({ ...refunds, peers: { 'orders-ui': 1 } })).toEqual(alone);
      expect(m.predict({ ...refunds, peers: { 'orders-ui': 1 }, peerReliability: { appCode: 0 } })).toEqual(alone);
      // a weak caller (a gateway) moves it less
      const weak = m.predict({ ...refunds, peers: { 'orders-ui': 0.1 }, peerReliability: { appCode: 1 } });
      expect(weak.appCode.probability).toBeLessThan(called.appCode.probability);
    });

    it("a known service's endpoint keeps its own service's labels whoever calls it", () => {
      const m = model();
      const api = {
        ...internal('payments', '/payments/{id}/refund', ['amount']),
        unobserved: ['text', 'tags'],
      } as ApiDescription;
      const own = m.predict(api);
      expect(m.predict({ ...api, peers: { 'orders-ui': 1 }, peerReliability: { appCode: 1 } })).toEqual(own);
    });

    it('a relabelled API moves its service in the mix', () => {
      const m = model();
      m.confirm('o2', internal('orders-ui', '/cart', ['item']), { appCode: 'PAY', category: 'ecommerce' });
      expect(m.peerEvidence('appCode', { 'orders-ui': 1 })?.mix).toEqual(new Map([['PAY', 1]]));
    });
  });
});

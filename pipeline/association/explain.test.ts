import { describe, expect, it } from 'vitest';
import { FEATURE_GROUPS, TOKEN_GROUPS } from './config.js';
import { sharedTokens } from './explain.js';
import { Featurizer, tokenize } from './features.js';

describe('sharedTokens (why an API is near its neighbours)', () => {
  const f = new Featurizer(1024);
  const apis = {
    refunds: { description: 'card refunds and chargebacks', hosts: ['api.pay.io'], params: ['amount'] },
    payouts: { description: 'payouts of refunds to cards', hosts: ['api.payouts.io'], params: ['amount', 'iban'] },
    maps: { description: 'map tiles', hosts: ['api.maps.io'], params: ['zoom'] },
  };
  const docs = Object.fromEntries(Object.entries(apis).map(([k, a]) => [k, tokenize(a)]));
  f.addDocuments(Object.values(docs));
  const vec = (k: keyof typeof apis) => f.vectorize(docs[k]);
  const weights = Float64Array.from(FEATURE_GROUPS, () => 1);
  const none = () => 0;

  it('names the tokens the neighbours share, those that bring them closest first, each once', () => {
    const why = sharedTokens(docs.refunds, vec('refunds'), [vec('payouts')], weights, 1024, none);
    expect(why).toContain('param amount');
    expect(why.some((w) => w.endsWith(' refund'))).toBe(true);
    expect(why.some((w) => w.endsWith(' card'))).toBe(true);
    // what the neighbour lacks is no reason; a token shared in two groups is named once
    expect(why.some((w) => w.includes('chargeback'))).toBe(false);
    expect(new Set(why.map((w) => w.split(' ')[1])).size).toBe(why.length);
    // nothing shared, nothing said
    expect(sharedTokens(docs.maps, vec('maps'), [vec('payouts')], weights, 1024, none)).toEqual([]);
  });

  it('leaves out tokens most APIs have, a group of weight 0 and the host labels said otherwise', () => {
    const all = sharedTokens(docs.refunds, vec('refunds'), [vec('payouts')], weights, 1024, none);
    const params = TOKEN_GROUPS.indexOf('params');
    const common = sharedTokens(docs.refunds, vec('refunds'), [vec('payouts')], weights, 1024, (g) =>
      g === params ? 0.9 : 0,
    );
    expect(all).toContain('param amount');
    expect(common).not.toContain('param amount');
    const noParams = Float64Array.from(FEATURE_GROUPS, (g) => (g === 'params' ? 0 : 1));
    expect(sharedTokens(docs.refunds, vec('refunds'), [vec('payouts')], noParams, 1024, none)).not.toContain(
      'param amount',
    );
    const hosts = { description: 'x', hosts: ['eu.acme.io'] };
    const other = { description: 'y', hosts: ['us.acme.io'] };
    const g = new Featurizer(1024);
    const [d1, d2] = [tokenize(hosts), tokenize(other)];
    g.addDocuments([d1, d2]);
    expect(sharedTokens(d1, g.vectorize(d1), [g.vectorize(d2)], weights, 1024, none)).toContain('host acme.io');
    expect(
      sharedTokens(d1, g.vectorize(d1), [g.vectorize(d2)], weights, 1024, none, new Set(['acme.io', 'acme', 'io'])),
    ).toEqual([]);
  });
});

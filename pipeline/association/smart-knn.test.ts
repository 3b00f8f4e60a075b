import { describe, expect, it } from 'vitest';
import { FEATURE_GROUPS } from './config.js';
import { Featurizer, tokenize } from './features.js';
import { blockDistance, classProbabilities, voteWeights, weightedEuclidean } from './knn-math.js';
import { inventoryDescription } from './describe.js';
import { MajorityKnn } from './majority-knn.js';
import { KdTreeIndex, SparseIndex } from './neighbour-index.js';
import { providerOf, SmartKnn, type TrainingItem, UNASSIGNED } from './smart-knn.js';
import { hostTokens, internalHostName, pathTokens, registrableDomain, splitIdentifier, textTokens } from './tokens.js';

describe('formulas (hand-computed)', () => {
  it('weighted Euclidean distance D = sqrt(sum w_i (x_ir - x_it)^2)', () => {
    // w = (0.5, 0.25, 0.25): 0.5*1 + 0.25*4 + 0.25*0 = 1.5
    expect(weightedEuclidean([1, 2, 3], [0, 0, 3], [0.5, 0.25, 0.25])).toBeCloseTo(Math.sqrt(1.5), 12);
    expect(weightedEuclidean([1, 1], [1, 1], [0.5, 0.5])).toBe(0);
  });

  it('vote weights w_j = (d_k - d_j)/(d_k - d_1), 1 when all distances are equal', () => {
    expect(voteWeights([1, 2, 3])).toEqual([1, 0.5, 0]);
    expect(voteWeights([0.2, 0.2, 0.6, 1.0])).toEqual([1, 1, 0.5, 0]);
    expect(voteWeights([0.7, 0.7])).toEqual([1, 1]);
    expect(voteWeights([])).toEqual([]);
  });

  it('P(Y_i|x) = (N_i + s)/(K + C s)', () => {
    // neighbours a, b, a with weights 1, 0.5, 0: N_a = 1, N_b = 0.5, N_c = 0; K = 3, C = 3, s = 1 → denominator 6
    const p = classProbabilities(['a', 'b', 'a'], [1, 0.5, 0], ['a', 'b', 'c'], 1);
    expect(p.get('a')).toBeCloseTo(2 / 6, 12);
    expect(p.get('b')).toBeCloseTo(1.5 / 6, 12);
    expect(p.get('c')).toBeCloseTo(1 / 6, 12);
    const unsmoothed = classProbabilities(['a', 'a'], [1, 1], ['a', 'b'], 0);
    expect(unsmoothed.get('a')).toBe(1);
  });

  it('block distance over sparse groups equals the dense weighted Euclidean distance', () => {
    const f = new Featurizer(64);
    const d1 = tokenize({ name: 'Order service', paths: ['/orders/{id}'], tags: ['orders'] });
    const d2 = tokenize({ name: 'Payment service', paths: ['/payments'], params: ['amount'] });
    f.addDocument(d1);
    f.addDocument(d2);
    const a = f.vectorize(d1);
    const b = f.vectorize(d2);
    const cw = Float64Array.from(FEATURE_GROUPS, (_g, i) => (i + 1) / 21 / 64);
    const dense = (v: typeof a) =>
      v.flatMap((blk) => {
        const x = new Array(64).fill(0);
        blk.idx.forEach((k, i) => {
          x[k] = blk.val[i];
        });
        return x;
      });
    const w = FEATURE_GROUPS.flatMap((_g, i) => new Array(64).fill(cw[i]));
    expect(blockDistance(a, b, cw)).toBeCloseTo(weightedEuclidean(dense(a), dense(b), w), 12);
  });
});

describe('tokens', () => {
  it('splits camelCase, snake_case and kebab-case and drops placeholders', () => {
    expect(splitIdentifier('getUserAccounts')).toEqual(['user', 'accounts']);
    expect(splitIdentifier('HTTPServer_error-codes')).toEqual(['server', 'error', 'codes']);
    expect(pathTokens('/v2/userProfiles/{userId}/payment-methods')).toEqual(['user', 'profile', 'payment', 'method']);
  });

  it('keeps the provider domain whole, three labels under a country-code public suffix', () => {
    expect(registrableDomain(['api', 'stripe', 'com'])).toBe('stripe.com');
    expect(registrableDomain(['apisetu', 'gov', 'in'])).toBe('apisetu.gov.in');
    expect(registrableDomain(['www', 'bbc', 'co', 'uk'])).toBe('bbc.co.uk');
    expect(registrableDomain(['localhost'])).toBeNull();
    expect(hostTokens('https://{region}.api.weather.gov.uk:8443/v1')).toEqual([
      '@weather.gov.uk',
      'weather',
      'gov',
      'uk',
    ]);
    expect(hostTokens('https://api.ebay.com{basePath}')[0]).toBe('@ebay.com');
    // a documentation placeholder's own labels are no evidence: APIs on example.com are not alike for it
    expect(hostTokens('https://petstore.example.com/v1')).toEqual(['petstore']);
    expect(hostTokens('claims.insure.example')).toEqual(['claims', 'insure']);
  });

  it('a shared or regional hosting platform adds the customer label; reserved names have no provider', () => {
    expect(registrableDomain(['myshop', 'herokuapp', 'com'])).toBe('myshop.herokuapp.com');
    expect(registrableDomain(['weather-api', 'p', 'rapidapi', 'com'])).toBe('weather-api.p.rapidapi.com');
    expect(registrableDomain(['herokuapp', 'com'])).toBe('herokuapp.com');
    expect(registrableDomain(['ec2', 'amazonaws', 'com'])).toBe('amazonaws.com');
    // a customer's API Gateway or Lambda URL is the customer's, Amazon's own regional endpoint Amazon's
    const gateway = ['tf689y3hbj', 'execute-api', 'us-east-1', 'amazonaws', 'com'];
    expect(registrableDomain(gateway)).toBe(gateway.join('.'));
    expect(registrableDomain(['v1', ...gateway])).toBe(gateway.join('.'));
    expect(registrableDomain(['x7', 'lambda-url', 'eu-west-1', 'on', 'aws'])).toBe('x7.lambda-url.eu-west-1.on.aws');
    expect(registrableDomain(['execute-api', 'us-east-1', 'amazonaws', 'com'])).toBe('amazonaws.com');
    expect(registrableDomain(['shop', 'azure-api', 'net'])).toBe('shop.azure-api.net');
    expect(registrableDomain(['api', 'example', 'com'])).toBeNull();
    expect(registrableDomain(['orders', 'svc', 'cluster', 'local'])).toBeNull();
  });

  it("an API whose hosts name no provider is its internal service's, else its internal host's", () => {
    expect(internalHostName('http://Orders.shop.svc.cluster.local:8080/v1')).toBe('orders.shop.svc.cluster.local');
    expect(internalHostName('ledger.internal')).toBe('ledger.internal');
    expect(internalHostName('orders')).toBe('orders');
    // a public domain has a provider; placeholders, loopback and addresses name nobody
    for (const h of ['api.stripe.com', 'api.example.com', 'payments.bank.example', 'localhost:8080', '10.0.0.7'])
      expect(internalHostName(h)).toBeNull();
    // an address names no provider either (not `@0.7`)
    expect(hostTokens('http://10.0.0.7:8080/v1').some((t) => t.startsWith('@'))).toBe(false);
    expect(hostTokens('http://[fe80::1]:8080/v1')).toEqual([]);
    expect(providerOf({ hosts: ['https://api.stripe.com/v1'], service: 'charges' }, 'x')).toBe('@stripe.com');
    expect(providerOf({ hosts: ['orders.shop.svc.cluster.local'], service: 'Orders' }, 'x')).toBe('~orders');
    expect(providerOf({ hosts: ['orders:8080'] }, 'x')).toBe('~orders');
    expect(providerOf({ service: 'orders' }, 'x')).toBe('~orders');
    expect(providerOf({ hosts: ['api.example.com', '127.0.0.1'] }, 'x')).toBe('#x');
    expect(providerOf({}, 'x')).toBe('#x');
  });

  it('drops markup and links from free text', () => {
    expect(textTokens('<p>Weather <code>forecasts</code> &amp; alerts, see https://x.example/docs</p>')).toEqual([
      'weather',
      'forecast',
      'alert',
      'see',
    ]);
  });
});

const api = (name: string, words: string, host: string): TrainingItem['api'] => ({
  name,
  description: words,
  hosts: [host],
  paths: words.split(' ').map((w) => `/${w}`),
});
const TRAIN: TrainingItem[] = [
  {
    id: 'pay1',
    api: api('Card payments', 'payment charge refund card', 'pay.example.com'),
    labels: { category: 'payment', lineOfBusiness: 'finance' },
  },
  {
    id: 'pay2',
    api: api('Payouts', 'payout transfer bank payment', 'pay.example.com'),
    labels: { category: 'payment', lineOfBusiness: 'finance' },
  },
  {
    id: 'pay3',
    api: api('Invoices', 'invoice payment billing charge', 'billing.example.com'),
    labels: { category: 'payment', lineOfBusiness: 'finance' },
  },
  {
    id: 'ord1',
    api: api('Orders', 'order cart checkout item', 'shop.example.com'),
    labels: { category: 'ecommerce', lineOfBusiness: 'retail' },
  },
  {
    id: 'ord2',
    api: api('Catalogue', 'product item catalogue price', 'shop.example.com'),
    labels: { category: 'ecommerce', lineOfBusiness: 'retail' },
  },
  {
    id: 'ord3',
    api: api('Inventory', 'stock item warehouse product', 'stock.example.com'),
    labels: { category: 'ecommerce', lineOfBusiness: 'retail' },
  },
];

/** a model on the text group alone, smoothing 0.1, no threshold, prior correction or linear scorer */
const textOnly = (k: number) => ({
  k,
  smoothing: 0.1,
  min_confidence: 0,
  group_weights: { name: 0, host: 0, path: 0, params: 0, tags: 0, text: 1, words: 0 },
  prior_correction: 0,
  linear_blend: 0,
  label_name_prior: 0,
});

describe('SmartKnn', () => {
  it('predicts every label dimension with probability and neighbour ids', () => {
    const m = new SmartKnn({ k: 3, smoothing: 0.1, min_confidence: 0.2, prior_correction: 0 });
    m.fit(TRAIN);
    const p = m.predict(api('Refunds', 'refund payment card charge', 'pay.example.com'));
    expect(p.category.value).toBe('payment');
    expect(p.lineOfBusiness.value).toBe('finance');
    expect(p.category.neighbours).toHaveLength(3);
    expect(p.category.neighbours[0]).toBe('pay1');
    expect(p.category.probability).toBeGreaterThan(0.2);
    expect(p.category.probability).toBeLessThanOrEqual(1);
    expect(m.indexKind).toBe('kdtree');
  });

  it('answers unassigned below the confidence threshold, with the candidate', () => {
    const m = new SmartKnn({ k: 6, smoothing: 1, min_confidence: 0.9, prior_correction: 0 });
    m.fit(TRAIN);
    const p = m.predict(api('Something', 'weather forecast', 'weather.example.com'), ['category']);
    expect(p.category.value).toBe(UNASSIGNED);
    expect(['payment', 'ecommerce']).toContain(p.category.candidate);
  });

  it('confirm() adds an API to the training set and changes the prediction', () => {
    const m = new SmartKnn({ k: 1, min_confidence: 0, prior_correction: 0 });
    m.fit(TRAIN);
    const query = api('Shipments', 'shipment parcel tracking carrier', 'ship.example.com');
    const before = m.predict(query, ['category']).category;
    expect(before.value).not.toBe('logistics');
    m.confirm('ship1', api('Parcels', 'parcel tracking shipment label', 'ship.example.com'), { category: 'logistics' });
    const after = m.predict(query, ['category']).category;
    expect(after.value).toBe('logistics');
    expect(after.neighbours).toEqual(['ship1']);
    // relabelling the same id replaces the old row
    m.confirm('ship1', api('Parcels', 'parcel tracking shipment label', 'ship.example.com'), { category: 'transport' });
    expect(m.predict(query, ['category']).category.value).toBe('transport');
    expect(m.size).toBe(7);
  });

  it('the sparse index takes APIs confirmed after its build: the neighbours and distances of an exhaustive search', () => {
    const m = new SmartKnn({ index: 'sparse', k: 3, min_confidence: 0, prior_correction: 0 });
    m.fit(TRAIN);
    const query = api('Shipments', 'shipment parcel tracking carrier', 'ship.example.com');
    m.predict(query, ['category']); // builds and packs the index: the confirmed rows go to its lists added since
    m.confirm('ship1', api('Parcels', 'parcel tracking shipment label', 'ship.example.com'), { category: 'logistics' });
    m.confirm('ship2', api('Freight', 'freight carrier tracking', 'freight.example.com'), { category: 'logistics' });
    // relabelled: its first row is no longer live
    m.confirm('ship1', api('Parcels', 'parcel tracking shipment label', 'ship.example.com'), { category: 'transport' });
    const v = m.vectorize(query);
    const exact = m.nearestBruteForce(v, 5);
    expect(exact.slice(0, 2).map((n) => n.id)).toEqual(['ship1', 'ship2']);
    expect(m.nearest(v, 5)).toEqual(exact.map((n) => ({ id: n.id, distance: expect.closeTo(n.distance, 9) })));
    expect(m.predict(query, ['category']).category.neighbours.slice(0, 2)).toEqual(['ship1', 'ship2']);
  });

  it('unseen_provider_min_confidence: a stricter threshold only for an API of a provider without training APIs', () => {
    const items: TrainingItem[] = [
      ...[1, 2, 3].map((i) => ({
        id: `a${i}`,
        api: { description: 'forecast rainfall alerts', hosts: [`s${i}.cloudy.com`] },
        labels: { category: 'a' },
      })),
      { id: 'b1', api: { description: 'forecast rainfall', hosts: ['api.rain.org'] }, labels: { category: 'b' } },
      { id: 'b2', api: { description: 'forecast rainfall', hosts: ['api.storm.net'] }, labels: { category: 'b' } },
    ];
    const at = (unseen_provider_min_confidence: number, host: string, min_confidence = 0.1) => {
      const m = new SmartKnn({
        k: 3,
        smoothing: 0,
        min_confidence,
        unseen_provider_min_confidence,
        group_weights: { name: 0, host: 0, path: 0, params: 0, tags: 0, text: 1, words: 0 },
        prior_correction: 0,
        linear_blend: 0,
      });
      m.fit(items);
      return m.predict({ description: 'forecast rainfall alerts', hosts: [host] }, ['category']).category;
    };
    // known provider: three of its own APIs, probability 1, assigned whatever the unseen threshold
    expect(at(0.9, 'api.cloudy.com')).toMatchObject({ value: 'a', probability: 1 });
    // unknown provider: one neighbour per provider (a, then b, b): the best class is below 0.9, so it goes to review
    const unknown = at(0.9, 'api.newco.io');
    expect(unknown).toMatchObject({ value: UNASSIGNED, candidate: unknown.candidate });
    expect(unknown.probability).toBeGreaterThan(0.1);
    // at 0 the common threshold assigns it; a lower unseen threshold never undercuts min_confidence
    expect(at(0, 'api.newco.io').value).toBe(unknown.candidate);
    expect(at(0, 'api.newco.io', 0.9).value).toBe(UNASSIGNED);
  });

  it('linear_blend: the probability is (1 - b) x the kNN probability + b x the linear scorer probability', () => {
    const query = api('Refunds', 'refund payment card charge', 'pay.example.com');
    const at = (linear_blend: number) => {
      // the query's words name `payment`: class names off, to check the blend's formula alone
      const m = new SmartKnn({
        k: 3,
        smoothing: 0.1,
        min_confidence: 0,
        prior_correction: 0,
        linear_blend,
        label_name_prior: 0,
      });
      m.fit(TRAIN);
      return m.predict(query, ['category']).category;
    };
    const knn = at(0);
    const linear = at(1);
    expect(linear.value).toBe('payment');
    expect(knn.value).toBe('payment');
    expect(at(0.3).probability).toBeCloseTo(0.7 * knn.probability + 0.3 * linear.probability, 12);
    // the neighbours are the kNN's whatever the blend
    expect(at(0.3).neighbours).toEqual(knn.neighbours);
  });

  it('linear_blend: a confirmed API is learnt in place, a relabelled one rebuilds the scorer', () => {
    const m = new SmartKnn({ k: 1, min_confidence: 0, prior_correction: 0, linear_blend: 1 });
    m.fit(TRAIN);
    const query = api('Shipments', 'shipment parcel tracking carrier', 'ship.example.com');
    expect(m.predict(query, ['category']).category.value).not.toBe('logistics');
    m.confirm('ship1', api('Parcels', 'parcel tracking shipment label', 'ship.example.com'), { category: 'logistics' });
    expect(m.predict(query, ['category']).category.value).toBe('logistics');
    m.confirm('ship1', api('Parcels', 'parcel tracking shipment label', 'ship.example.com'), { category: 'transport' });
    // with b = 1 the value is the scorer's alone: one that still knew ship1 as logistics would answer logistics
    expect(m.predict(query, ['category']).category.value).toBe('transport');
  });

  it('linear_blend: no scorer for a dimension of more than 100 classes (the kNN alone answers)', () => {
    const many: TrainingItem[] = Array.from({ length: 101 }, (_, i) => ({
      id: `x${i}`,
      api: api(`Api ${i}`, `service number ${i} words`, `h${i}.example.com`),
      labels: { appCode: `app${i}` },
    }));
    const query = api('Api 7', 'service number 7 words', 'h7.example.com');
    const predict = (linear_blend: number, items: TrainingItem[]) => {
      const m = new SmartKnn({ k: 3, min_confidence: 0, linear_blend });
      m.fit(items);
      return m.predict(query, ['appCode']).appCode;
    };
    expect(predict(0.5, many)).toEqual(predict(0, many));
    expect(predict(0.5, many.slice(0, 100)).probability).not.toBeCloseTo(predict(0, many.slice(0, 100)).probability, 6);
  });

  it('prior correction by providers: a class from one provider weighs like one provider', () => {
    // all six APIs share the text, so the six neighbours are equidistant and every vote weight is 1
    const same = (host: string): TrainingItem['api'] => ({ description: 'forecast rainfall alerts', hosts: [host] });
    const items: TrainingItem[] = [
      ...[1, 2, 3, 4].map((i) => ({ id: `a${i}`, api: same(`s${i}.cloudy.com`), labels: { category: 'a' } })),
      { id: 'b1', api: same('api.rain.org'), labels: { category: 'b' } },
      { id: 'b2', api: same('api.storm.net'), labels: { category: 'b' } },
    ];
    const text = { name: 0, host: 0, path: 0, params: 0, tags: 0, text: 1, words: 0 };
    const model = (prior_correction: number) => {
      const m = new SmartKnn({
        k: 6,
        smoothing: 0,
        min_confidence: 0,
        group_weights: text,
        prior_correction,
        unseen_provider_cap: 0,
        linear_blend: 0,
      });
      m.fit(items);
      return m.predict(same('new.example.com'), ['category']).category;
    };
    // paper: 4 votes a, 2 votes b
    expect(model(0)).toMatchObject({ value: 'a', probability: expect.closeTo(4 / 6, 12) });
    // a: 1 provider / 4 APIs -> 4 x 1/4 = 1; b: 2 providers / 2 APIs -> 2; total kept at 6 -> a 2, b 4
    expect(model(1)).toMatchObject({ value: 'b', probability: expect.closeTo(4 / 6, 12) });
  });

  it("provider_prior: a known provider's API leans to the provider's own class mix", () => {
    const items: TrainingItem[] = [
      // bank.com: three payment APIs and one about statements, worded like the analytics APIs of others
      ...['card charges', 'refunds', 'payouts'].map((d, i) => ({
        id: `p${i}`,
        api: { description: d, hosts: ['api.bank.com'] },
        labels: { category: 'payment' },
      })),
      { id: 's', api: { description: 'statement reports', hosts: ['api.bank.com'] }, labels: { category: 'payment' } },
      ...['usage reports export', 'sales reports dashboard', 'statement reports charts'].map((d, i) => ({
        id: `r${i}`,
        api: { description: d, hosts: [`api.stats${i}.com`] },
        labels: { category: 'analytics' },
      })),
    ];
    const config = textOnly(4);
    const query = (host: string) => ({ description: 'reports charts dashboard', hosts: [host] });
    const off = new SmartKnn({ ...config, provider_prior: 0 });
    off.fit(items);
    const on = new SmartKnn({ ...config, provider_prior: 0.5 });
    on.fit(items);
    const before = off.evidence(query('www.bank.com'), ['category']).dims.get('category')!.probs;
    expect(off.predict(query('www.bank.com'), ['category']).category.value).toBe('analytics');
    // (1 - λ') P + λ' (n_pi + s) / (n_p + C s), λ' = 0.5 x purity² = 0.5: bank.com has 4 payment APIs, 0 analytics; C = 2
    const after = on.evidence(query('www.bank.com'), ['category']).dims.get('category')!.probs;
    expect(after.get('payment')).toBeCloseTo(0.5 * before.get('payment')! + (0.5 * 4.1) / 4.2, 12);
    expect(after.get('analytics')).toBeCloseTo(0.5 * before.get('analytics')! + (0.5 * 0.1) / 4.2, 12);
    expect(on.predict(query('www.bank.com'), ['category']).category.value).toBe('payment');
    // an unseen provider's API has no mix to lean on
    expect(on.predict(query('api.newbank.io'), ['category'])).toEqual(
      off.predict(query('api.newbank.io'), ['category']),
    );
    // confirming an API moves the provider's mix; relabelling one takes its old class out
    on.confirm('s', items[3].api, { category: 'analytics' });
    const relabelled = on.evidence(query('www.bank.com'), ['category']).dims.get('category')!.probs;
    const knn = new SmartKnn({ ...config, provider_prior: 0 });
    knn.fit(items);
    knn.confirm('s', items[3].api, { category: 'analytics' });
    const p = knn.evidence(query('www.bank.com'), ['category']).dims.get('category')!.probs;
    // 3 payment, 1 analytics: λ' = 0.5 x (3/4)² = 0.28125
    const l = 0.5 * (3 / 4) ** 2;
    expect(relabelled.get('analytics')).toBeCloseTo((1 - l) * p.get('analytics')! + (l * 1.1) / 4.2, 12);
    expect(relabelled.get('payment')).toBeCloseTo((1 - l) * p.get('payment')! + (l * 3.1) / 4.2, 12);
  });

  it('pool_unseen_provider: a batch associates the APIs of one unseen provider together', () => {
    const config = textOnly(3);
    const m = new SmartKnn(config);
    m.fit(TRAIN);
    const sure = { description: 'payment charge refund card', hosts: ['api.newco.io'] };
    // alone, its nearest APIs are two shop APIs and a payout: ecommerce
    const unsure = { description: 'stock item payout', hosts: ['eu.newco.io'] };
    const sameWords = (host?: string) => ({ description: 'stock item payout', ...(host ? { hosts: [host] } : {}) });
    const batch = [sure, unsure, sameWords('api.other.dev'), sameWords()];
    const alone = batch.map((q) => m.predict(q, ['category']).category);
    expect(alone.map((p) => p.value)).toEqual(['payment', 'ecommerce', 'ecommerce', 'ecommerce']);
    const pooled = m.predictBatch(batch, ['category']).map((p) => p.category);
    // newco.io's two APIs: the mean of their class probabilities, each keeps its own neighbours
    const probs = batch.slice(0, 2).map((q) => m.evidence(q, ['category']).dims.get('category')!.probs);
    const mean = (c: string) => (probs[0].get(c)! + probs[1].get(c)!) / 2;
    expect(mean('payment')).toBeGreaterThan(mean('ecommerce'));
    for (const i of [0, 1]) {
      expect(pooled[i]).toMatchObject({ value: 'payment', pooled: 2, neighbours: alone[i].neighbours });
      expect(pooled[i].probability).toBeCloseTo(mean('payment'), 12);
    }
    // another provider and a hostless API are each on their own
    expect(pooled.slice(2)).toEqual(alone.slice(2));
    // off: every API on its own
    const off = new SmartKnn({ ...config, pool_unseen_provider: false });
    off.fit(TRAIN);
    expect(off.predictBatch(batch, ['category']).map((p) => p.category)).toEqual(alone);
    // once the provider has a training API it is known: no pooling
    m.confirm('n1', { description: 'payout transfer', hosts: ['api.newco.io'] }, { category: 'payment' });
    expect(m.predictBatch(batch, ['category']).every((p) => p.category.pooled === undefined)).toBe(true);
    // decide() ignores siblings of another provider or of a known one
    const other = m.evidence(sameWords('api.other.dev'), ['category']);
    const third = m.evidence(sameWords('x.third.dev'), ['category']);
    expect(m.decide(other, [third, m.evidence(sure, ['category'])]).category.pooled).toBeUndefined();
  });

  it("an endpoint of a catalogued internal service is its service's; a new internal service's endpoints pool", () => {
    // the mesh's services: orders (3 ecommerce APIs) and reports (analytics), on internal hosts only
    const items: TrainingItem[] = [
      ...['order placement', 'order history', 'order cancellation'].map((d, i) => ({
        id: `o${i}`,
        api: { description: d, service: 'orders', hosts: ['orders.shop.svc.cluster.local'] },
        labels: { category: 'ecommerce' },
      })),
      ...['sales reports export', 'usage reports', 'report charts'].map((d, i) => ({
        id: `r${i}`,
        api: { description: d, service: `reports${i}`, hosts: [`reports${i}.bi.svc.cluster.local`] },
        labels: { category: 'analytics' },
      })),
    ];
    const m = new SmartKnn({ ...textOnly(4), provider_prior: 0.5 });
    m.fit(items);
    const endpoint = (service: string, words: string) => ({ description: words, service, hosts: [`${service}:8080`] });
    // `GET /orders/export/sales-reports` of the orders service: its words are the reports', but its service is known
    // and its class mix leans it to ecommerce; the same words from a service nobody catalogued read as analytics
    const known = m.evidence(endpoint('orders', 'order sales reports export'), ['category']);
    expect(known).toMatchObject({ provider: '~orders', seen: true });
    expect(m.decide(known).category.value).toBe('ecommerce');
    const stranger = m.evidence(endpoint('exports', 'order sales reports export'), ['category']);
    expect(stranger).toMatchObject({ provider: '~exports', seen: false });
    expect(m.decide(stranger).category.value).toBe('analytics');
    // each says why: the service's own APIs first, else the words its neighbours of the class share
    expect(m.decide(known).category.because?.[0]).toBe('service orders');
    const why = m.decide(stranger).category.because ?? [];
    expect(why.length).toBeGreaterThan(0);
    expect(why.every((w) => /^text (sale|report|export)$/.test(w))).toBe(true);
    // two endpoints of a service the catalogue does not know are associated together
    const batch = [endpoint('billing', 'sales reports export'), endpoint('billing', 'order placement')];
    const pooled = m.predictBatch(batch, ['category']).map((p) => p.category);
    expect(pooled.map((p) => p.pooled)).toEqual([2, 2]);
    expect(pooled[0].value).toBe(pooled[1].value);
  });

  it('unseen_provider_cap: one neighbour per provider only for an API of a provider without training APIs', () => {
    // a1..a4 (one provider) are nearer the query than b1, b2 (two others)
    const items: TrainingItem[] = [
      ...[1, 2, 3, 4].map((i) => ({
        id: `a${i}`,
        api: { description: 'forecast rainfall alerts radar', hosts: [`s${i}.cloudy.com`] },
        labels: { category: 'a' },
      })),
      { id: 'b1', api: { description: 'forecast rainfall', hosts: ['api.rain.org'] }, labels: { category: 'b' } },
      { id: 'b2', api: { description: 'forecast rainfall', hosts: ['api.storm.net'] }, labels: { category: 'b' } },
    ];
    const text = { name: 0, host: 0, path: 0, params: 0, tags: 0, text: 1, words: 0 };
    for (const index of ['kdtree', 'sparse'] as const) {
      const m = new SmartKnn({
        k: 3,
        smoothing: 0,
        min_confidence: 0,
        group_weights: text,
        prior_correction: 0,
        linear_blend: 0,
        index,
      });
      m.fit(items);
      const query = (host: string) => ({ description: 'forecast rainfall alerts radar', hosts: [host] });
      // known provider: its own APIs fill the neighbourhood
      const known = m.predict(query('api.cloudy.com'), ['category']).category;
      expect(known).toMatchObject({ value: 'a', probability: 1 });
      expect(known.neighbours.every((id) => id.startsWith('a'))).toBe(true);
      // unknown provider (or no host): one neighbour of cloudy.com, then rain.org and storm.net
      for (const q of [query('api.newco.io'), { description: 'forecast rainfall alerts radar' }]) {
        const p = m.predict(q, ['category']).category;
        expect(p.neighbours).toHaveLength(3);
        expect(p.neighbours.slice(1).sort()).toEqual(['b1', 'b2']);
      }
      // confirming an API of the new provider makes it known: no cap any more
      m.confirm('n1', { description: 'storm warnings', hosts: ['api.newco.io'] }, { category: 'b' });
      expect(m.predict(query('api.newco.io'), ['category']).category.neighbours).not.toContain('b2');
      // relabelling it keeps newco.io known; the cap for other unknown providers is unchanged
      m.confirm('n1', { description: 'storm warnings', hosts: ['api.newco.io'] }, { category: 'a' });
      expect(m.predict(query('api.newco.io'), ['category']).category.neighbours).not.toContain('b2');
      expect(m.predict(query('api.other.dev'), ['category']).category.neighbours).toContain('b2');
    }
  });

  it('an API that shares no token with its neighbours goes to review, whatever the class mix makes its probability', () => {
    const shop = (id: string, word: string): TrainingItem => ({
      id,
      api: { name: `Shop ${word}`, hosts: [`api.${id}.com`], paths: [`/${word}/{id}`], params: [`${word}Id`] },
      labels: { category: 'ecommerce' },
    });
    const items = [
      shop('cartco', 'carts'),
      shop('orderco', 'orders'),
      shop('basketco', 'baskets'),
      {
        id: 'ledgerco',
        api: { name: 'Ledger', hosts: ['api.ledgerco.com'], paths: ['/ledger/entries'], params: ['account'] },
        labels: { category: 'finance' },
      },
    ];
    const m = new SmartKnn({ k: 4, min_confidence: 0.1, word_embeddings: 'off' });
    m.fit(items);
    // Swagger's petstore shares nothing with this catalogue: three of its four APIs are ecommerce, and that is all
    const pets = m.predict(
      { name: 'Petstore', hosts: ['https://petstore.example.com/v1'], paths: ['/pets/{petId}'], params: ['petId'] },
      ['category'],
    ).category;
    expect(pets).toMatchObject({ value: UNASSIGNED, candidate: 'ecommerce' });
    expect(pets.probability).toBeGreaterThan(0.1);
    expect(pets.because).toBeUndefined();
    // one shared word is evidence: assigned, and said
    const orders = m.predict(
      { name: 'Pet orders', hosts: ['https://petstore.example.com/v1'], paths: ['/orders/{id}'] },
      ['category'],
    ).category;
    expect(orders.value).toBe('ecommerce');
    expect(orders.because?.join(' ')).toContain('order');
  });

  it('query_absent_groups: an endpoint seen in traffic is not drawn to catalogue APIs that lack a description', () => {
    const items: TrainingItem[] = [
      {
        id: 'weather',
        api: {
          name: 'Weather',
          description: 'weather forecasts and alerts for cities',
          hosts: ['api.weatherco.com'],
          paths: ['/forecast/{city}', '/alerts'],
          params: ['city', 'units'],
          tags: ['weather'],
        },
        labels: { category: 'weather' },
      },
      {
        id: 'ledger',
        api: { name: 'Ledger', hosts: ['api.ledgerco.com'], paths: ['/ledger/entries'], params: ['account'] },
        labels: { category: 'finance' },
      },
    ];
    const endpoint = inventoryDescription({
      service: 'forecast',
      route: '/forecast/{city}',
      hosts: ['api.newco.io'],
      params: ['units'],
    });
    expect(endpoint.unobserved).toEqual(['text', 'tags']);
    // the default features (the opt-in word vectors, when installed, would add a group of their own)
    const base = {
      k: 2,
      smoothing: 0,
      min_confidence: 0,
      prior_correction: 0,
      linear_blend: 0,
      provider_prior: 0,
      word_embeddings: 'off',
    };
    for (const index of ['kdtree', 'sparse'] as const) {
      const ignore = new SmartKnn({ ...base, index });
      ignore.fit(items);
      // the endpoint's route and parameters are the weather API's; its missing description says nothing
      expect(ignore.predict(endpoint, ['category']).category.value).toBe('weather');
      // a catalogue document lacking a description is still matched on that lack, as is everything with `match`;
      // sharing nothing but absences with its nearest API, it goes to review with that API's class as its candidate
      const { unobserved, ...document } = endpoint;
      expect(ignore.predict(document, ['category']).category).toMatchObject({
        value: UNASSIGNED,
        candidate: 'finance',
      });
      const match = new SmartKnn({ ...base, index, query_absent_groups: 'match' });
      match.fit(items);
      expect(match.predict(endpoint, ['category']).category).toMatchObject({ value: UNASSIGNED, candidate: 'finance' });
    }
    // the votes weigh distances over the groups the endpoint has: text + words with its text left out votes as words alone
    const third: TrainingItem = {
      id: 'maps',
      api: { name: 'Maps', description: 'maps in metric units', hosts: ['api.mapco.com'], paths: ['/tiles'] },
      labels: { category: 'maps' },
    };
    const words = { name: 0, host: 0, path: 0, params: 0, tags: 0 };
    const mixed = new SmartKnn({ ...base, k: 3, group_weights: { ...words, text: 0.5, words: 0.5 } });
    const alone = new SmartKnn({ ...base, k: 3, group_weights: { ...words, text: 0, words: 1 } });
    mixed.fit([...items, third]);
    alone.fit([...items, third]);
    const a = alone.evidence(endpoint, ['category']).dims.get('category')!;
    const b = mixed.evidence(endpoint, ['category']).dims.get('category')!;
    expect(b.neighbours).toEqual(a.neighbours);
    for (const [c, p] of a.probs) expect(b.probs.get(c)).toBeCloseTo(p, 9);
    // the middle neighbour's vote is neither 0 nor 1 (k = 3, no smoothing: its probability is that vote / 3)
    const middle = a.probs.get(a.labels[1])!;
    expect(middle).toBeGreaterThan(0.01);
    expect(middle).toBeLessThan(0.33);
  });

  it('both indexes honour a per-group cap exactly as a capped exhaustive search', () => {
    const words = 'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda sigma omega'.split(' ');
    const m = new SmartKnn({ index: 'sparse', dims_per_group: 64 });
    const vecs = Array.from({ length: 80 }, (_, i) =>
      m.vectorize(api(`api ${words[i % 13]}`, `${words[(i * 7) % 13]} ${words[(i * 5 + 3) % 13]}`, `h${i}.io`)),
    );
    const sparse = new SparseIndex(m.featureWeights, 1);
    const tree = new KdTreeIndex(64, m.featureWeights);
    vecs.forEach((v, row) => {
      sparse.add(row, v);
      tree.add(row, v);
    });
    const cap = { of: (row: number) => row % 3, cap: 2 };
    for (let q = 0; q < 8; q++) {
      const v = m.vectorize(api('query', `${words[q]} ${words[(q + 4) % 13]}`, 'q.io'));
      const all = vecs
        .map((x, row) => ({ row, distance: blockDistance(v, x, m.featureWeights) }))
        .sort((a, b) => a.distance - b.distance || a.row - b.row);
      const per = [0, 0, 0];
      const expected = all.filter((n) => per[n.row % 3]++ < 2).map((n) => n.distance);
      expect(expected).toHaveLength(6);
      for (const index of [sparse, tree]) {
        const got = index.nearest(v, 5, () => true, cap);
        expect(got.map((n) => n.distance)).toEqual(expected.slice(0, 5).map((d) => expect.closeTo(d, 9)));
        const groups = got.map((n) => n.row % 3);
        for (const g of [0, 1, 2]) expect(groups.filter((x) => x === g).length).toBeLessThanOrEqual(2);
      }
    }
  });

  it('the sparse index honours a cap exactly when most groups share no bucket with the query', () => {
    // one group per 40 rows' remainder, a cap of 1: the query's words reach a few groups only, so the k nearest come
    // mostly from rows sharing no bucket (read in ascending base, with the bound refreshed as rows are kept)
    const words = 'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda sigma omega'.split(' ');
    const m = new SmartKnn({ index: 'sparse', dims_per_group: 256 });
    const vecs = Array.from({ length: 400 }, (_, i) =>
      m.vectorize(api(`api ${words[i % 13]}`, `${words[(i * 7) % 13]} ${words[(i * 5 + 3) % 11]}`, `h${i}.io`)),
    );
    const sparse = new SparseIndex(m.featureWeights, 1);
    vecs.forEach((v, row) => {
      sparse.add(row, v);
    });
    const cap = { of: (row: number) => row % 40, cap: 1 };
    for (const text of ['omega', 'sigma lambda', 'zzz unknown words']) {
      const v = m.vectorize(api('query', text, 'q.io'));
      // rows 3, 10, 17, ... are not live
      const live = (row: number) => row % 7 !== 3;
      const all = vecs
        .map((x, row) => ({ row, distance: blockDistance(v, x, m.featureWeights) }))
        .filter((n) => live(n.row))
        .sort((a, b) => a.distance - b.distance || a.row - b.row);
      const seen = new Set<number>();
      const expected = all.filter((n) => !seen.has(n.row % 40) && seen.add(n.row % 40)).slice(0, 30);
      const got = sparse.nearest(v, 30, live, cap);
      expect(got.map((n) => n.distance)).toEqual(expected.map((n) => expect.closeTo(n.distance, 9)));
      expect(new Set(got.map((n) => n.row % 40)).size).toBe(30);
      expect(got.every((n) => live(n.row))).toBe(true);
    }
  });

  it('ml-knn kd-tree and the exact sparse index agree on neighbours', () => {
    const items: TrainingItem[] = [];
    const words = 'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda sigma omega'.split(' ');
    for (let i = 0; i < 60; i++) {
      const pick = [words[i % 13], words[(i * 7) % 13], words[(i * 5 + 3) % 13]].join(' ');
      items.push({
        id: `a${i}`,
        api: api(`api ${words[i % 13]}`, pick, `h${i % 9}.example.com`),
        labels: { category: `c${i % 4}` },
      });
    }
    const kd = new SmartKnn({ index: 'kdtree', dims_per_group: 64 });
    const sp = new SmartKnn({ index: 'sparse', dims_per_group: 64 });
    kd.fit(items);
    sp.fit(items);
    for (let q = 0; q < 10; q++) {
      const v = kd.vectorize(api('query', `${words[q]} ${words[(q + 4) % 13]}`, `h${q}.example.com`));
      const a = kd.nearest(v, 5);
      const b = sp.nearest(v, 5);
      expect(a.map((n) => n.distance)).toEqual(b.map((n) => expect.closeTo(n.distance, 9)));
    }
    const idx = new SparseIndex(kd.featureWeights, 1);
    const tree = new KdTreeIndex(64, kd.featureWeights);
    expect(idx.nearest(kd.vectorize(api('x', 'y', 'z')), 3, () => true)).toEqual([]);
    expect(tree.nearest(kd.vectorize(api('x', 'y', 'z')), 3, () => true)).toEqual([]);
  });

  it('the pruned sparse index (large catalogues) still finds an exact duplicate and returns k neighbours', () => {
    // tokens are letters only (the tokeniser drops digits): unique words from the index in base 26
    const word = (n: number) =>
      `q${[...n.toString(26)].map((d) => String.fromCharCode(97 + Number.parseInt(d, 26))).join('')}z`;
    const items: TrainingItem[] = [];
    for (let i = 0; i < 300; i++) {
      items.push({
        id: `x${i}`,
        api: api(`common api ${word(i % 7)}`, `common shared ${word(i)} ${word(i % 11)}`, `${word(i)}.example.com`),
        labels: { category: `c${i % 3}` },
      });
    }
    const m = new SmartKnn({ index: 'auto', kdtree_max_entries: 100, prune_df_ratio: 0.05, dims_per_group: 256 });
    m.fit(items);
    expect(m.indexKind).toBe('sparse');
    const v = m.vectorize(items[123].api);
    const nb = m.nearest(v, 5);
    expect(nb).toHaveLength(5);
    expect(nb[0].id).toBe('x123');
    expect(m.distanceTo(v, 'x123')).toBeCloseTo(0, 9);
    const exact = m.nearestBruteForce(v, 5);
    expect(exact[0].id).toBe('x123');
    expect(exact[1].distance).toBeGreaterThan(0);
    // the rows it returns are re-ranked by their full distance: the distances (which weigh the votes) are exact,
    // though the posting lists of `common` and `shared` (in every entry) were never walked
    for (const i of [0, 57, 123, 201, 299]) {
      const q = m.vectorize({ ...items[i].api, name: `common api ${word(i % 7)} extra` });
      const got = m.nearest(q, 10);
      // the same doubles as blockDistance (the query scattered once, the products summed in the same order)
      for (const n of got) expect(n.distance).toBe(m.distanceTo(q, n.id));
      const kth = m.nearestBruteForce(q, 10)[9].distance + 1e-9;
      expect(got.filter((n) => n.distance <= kth)).toHaveLength(10);
    }
  });

  it('majority-vote baseline (ml-knn as shipped) classifies the easy cases', () => {
    const b = new MajorityKnn(3, 64);
    expect(b.predict(api('x', 'y', 'z'))).toBeNull();
    b.fit(TRAIN.map((t) => ({ api: t.api, label: t.labels.category })));
    expect(b.predict(api('Carts', 'cart checkout order item product', 'shop.example.com'))).toBe('ecommerce');
  });
});

import { describe, expect, it } from 'vitest';
import { FEATURE_GROUPS } from './config.js';
import { Featurizer, tokenize } from './features.js';
import { SOFTMAX_TRAINING, SoftmaxScorer } from './softmax-scorer.js';

const DIMS = 256;
const WEIGHTS = FEATURE_GROUPS.map((g) => (g === 'text' ? 0.6 : g === 'host' ? 0.4 : 0));
const SIZES = FEATURE_GROUPS.map((g) => (g === 'embedding' ? 0 : DIMS));

function setup(docs: { description: string; host: string }[]) {
  const f = new Featurizer(DIMS);
  const toks = docs.map((d) => tokenize({ description: d.description, hosts: [d.host] }));
  f.addDocuments(toks);
  return {
    vec: (description: string, host = 'q.example.org') => f.vectorize(tokenize({ description, hosts: [host] })),
    toks,
    f,
  };
}

describe('SoftmaxScorer', () => {
  it('learns which words mean which class and answers probabilities that sum to 1', () => {
    const docs = [
      ...['rain forecast', 'storm forecast radar', 'rain radar alerts'].map((d, i) => ({
        description: d,
        host: `w${i}.example.com`,
        label: 'weather',
      })),
      ...['card payment refund', 'payment invoice', 'refund card charge'].map((d, i) => ({
        description: d,
        host: `p${i}.example.net`,
        label: 'payment',
      })),
    ];
    const { vec, toks, f } = setup(docs);
    const s = new SoftmaxScorer(WEIGHTS, SIZES);
    s.train(docs.map((d, i) => ({ vec: f.vectorize(toks[i]), label: d.label, provider: i })));
    expect([...s.classes].sort()).toEqual(['payment', 'weather']);
    const p = s.probabilities(vec('storm alerts'));
    expect(p[0] + p[1]).toBeCloseTo(1, 12);
    expect(p[s.classes.indexOf('weather')]).toBeGreaterThan(0.7);
    expect(p[s.classes.indexOf('payment')]).toBeLessThan(0.3);
    expect(s.probabilities(vec('invoice charge'))[s.classes.indexOf('payment')]).toBeGreaterThan(0.7);
  });

  it('weighs each provider once: one provider with many APIs does not outweigh several', () => {
    // 'feed' is said by one provider of class a (5 APIs, the sample cap) and by four providers of class b
    const docs = [
      ...Array.from({ length: SOFTMAX_TRAINING.perProviderClass }, (_, i) => ({
        description: `feed items ${i}`,
        host: 'big.example.com',
        label: 'a',
      })),
      ...[0, 1, 2, 3].map((i) => ({ description: 'feed', host: `small${i}.example.org`, label: 'b' })),
    ];
    const { vec, toks, f } = setup(docs);
    const providers = new Map<string, number>();
    const rows = docs.map((d, i) => {
      if (!providers.has(d.host)) providers.set(d.host, providers.size);
      return { vec: f.vectorize(toks[i]), label: d.label, provider: providers.get(d.host)! };
    });
    const s = new SoftmaxScorer(WEIGHTS, SIZES);
    s.train(rows);
    const p = s.probabilities(vec('feed'));
    expect(p[s.classes.indexOf('b')]).toBeGreaterThan(p[s.classes.indexOf('a')]);
  });

  it('add() learns a new class in place; rows past the per-provider cap are skipped', () => {
    const docs = [
      { description: 'rain forecast', host: 'w.example.com', label: 'weather' },
      { description: 'card payment', host: 'p.example.com', label: 'payment' },
    ];
    const { vec, toks, f } = setup(docs);
    const s = new SoftmaxScorer(WEIGHTS, SIZES);
    s.train(docs.map((d, i) => ({ vec: f.vectorize(toks[i]), label: d.label, provider: i })));
    const before = s.memoryBytes();
    s.add({ vec: vec('parcel shipment tracking'), label: 'logistics', provider: 7 });
    expect(s.classes).toContain('logistics');
    expect(s.memoryBytes()).toBeGreaterThan(before);
    const p = s.probabilities(vec('shipment tracking'));
    expect(p[s.classes.indexOf('logistics')]).toBe(Math.max(...p));
    // the same provider and class past the cap changes nothing
    for (let i = 0; i < SOFTMAX_TRAINING.perProviderClass; i++)
      s.add({ vec: vec('parcel'), label: 'logistics', provider: 8 });
    const q = s.probabilities(vec('rain'));
    s.add({ vec: vec('rain rain rain'), label: 'logistics', provider: 8 });
    expect(s.probabilities(vec('rain'))).toEqual(q);
  });
});

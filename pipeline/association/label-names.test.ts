import { describe, expect, it } from 'vitest';
import { tokenize } from './features.js';
import { namedClasses } from './label-names.js';
import { SmartKnn, type TrainingItem } from './smart-knn.js';

const TRAIN: TrainingItem[] = [
  ...[1, 2, 3].map((i) => ({
    id: `shop${i}`,
    api: { name: `Shop ${i}`, description: 'product catalogue cart checkout stock', hosts: [`shop${i}.example.com`] },
    labels: { category: 'ecommerce', appCode: 'SHP01' },
  })),
  ...[1, 2].map((i) => ({
    id: `open${i}`,
    api: { name: `City data ${i}`, description: 'open data portal datasets', hosts: [`data${i}.city.gov`] },
    labels: { category: 'open_data', appCode: 'OPD01' },
  })),
  {
    id: 'wx1',
    api: { name: 'Forecasts', description: 'forecast rainfall temperature', hosts: ['api.meteo.org'] },
    labels: { category: 'weather', appCode: 'WX01' },
  },
];

describe('class names as evidence (label_name_prior)', () => {
  it("names a class when all its name's words are among the API's words, stemmed; codes never", () => {
    const doc = tokenize({
      name: 'Weather stations',
      description: 'open data of the stations',
      paths: ['/items/{id}'],
    });
    expect(namedClasses(doc, ['weather', 'open_data', 'ecommerce', 'WX01', 'machine_learning'])).toEqual([
      'weather',
      'open_data',
    ]);
    // one word of two is not enough
    expect(namedClasses(tokenize({ description: 'open the shop' }), ['open_data'])).toEqual([]);
    // an endpoint's path and parameters count (traffic shows no description)
    expect(namedClasses(tokenize({ paths: ['/weather/forecasts'], params: ['stationId'] }), ['weather'])).toEqual([
      'weather',
    ]);
  });

  it("an unseen provider's API that names a class leans to it, says so, and only by the configured weight", () => {
    // its words are a shop's, but it says weather: the kNN alone answers ecommerce
    const query = { name: 'Weather shop', description: 'product cart forecast weather', hosts: ['api.newco.io'] };
    const at = (label_name_prior: number) => {
      const m = new SmartKnn({ k: 4, min_confidence: 0, linear_blend: 0, label_name_prior, word_embeddings: 'off' });
      m.fit(TRAIN);
      return m.predict(query, ['category']).category;
    };
    const off = at(0);
    expect(off.value).toBe('ecommerce');
    // the weather API is the 4th neighbour, whose vote weighs 0: weather has the smoothing's share alone, which e^5
    // lifts past ecommerce's
    const on = at(5);
    expect(on.value).toBe('weather');
    expect(on.because?.[0]).toBe('its words name it');
    // the probabilities keep their sum: the named class gains what the others lose, by e^β relative to them
    const m = new SmartKnn({ k: 4, min_confidence: 0, linear_blend: 0, label_name_prior: 1, word_embeddings: 'off' });
    m.fit(TRAIN);
    const ev = m.evidence(query, ['category']);
    const probs = ev.dims.get('category')?.probs as Map<string, number>;
    const decided = m.decide(ev).category;
    const sum = [...probs.values()].reduce((a, b) => a + b, 0);
    const weighted = (probs.get('weather') ?? 0) * Math.E;
    expect(decided.probability).toBeCloseTo(
      Math.max(weighted, probs.get('ecommerce') ?? 0) * (sum / (sum - (probs.get('weather') ?? 0) + weighted)),
      12,
    );
  });

  it("a known provider's API is not moved by the names its words contain", () => {
    const m = new SmartKnn({ k: 4, min_confidence: 0, linear_blend: 0, label_name_prior: 3, word_embeddings: 'off' });
    m.fit(TRAIN);
    const known = { name: 'Shop weather', description: 'cart checkout weather', hosts: ['shop2.example.com'] };
    const p = m.predict(known, ['category']).category;
    expect(p.value).toBe('ecommerce');
    expect(p.because ?? []).not.toContain('its words name it');
  });
});

import { describe, expect, it } from 'vitest';
import type { ApiEntry } from './api-entry.js';
import { riskModelOf } from './endpoint-risk-config.js';
import { alertsByEndpoint, ENDPOINT_RISK, endpointKey, endpointRisk, riskLevel } from './endpoint-risk.js';

const entry = (over: Partial<ApiEntry> = {}): ApiEntry => ({
  id: 'api_1',
  service: 'billing',
  method: 'GET',
  route: '/invoices',
  hosts: [],
  firstSeen: 0,
  lastSeen: 0,
  count: 10,
  callers: [],
  params: [],
  statusMix: { '2xx': 10 },
  auth: { token: 10, mtls: 0, key: 0, none: 0 },
  catalogueId: 'cat_1',
  labels: {},
  state: 'catalogued',
  ...over,
});

describe('endpointRisk', () => {
  it('a catalogued read with credentials on every call and no sensitive names has no risk', () => {
    expect(endpointRisk(entry())).toEqual({ score: 0, level: 'low', factors: [] });
  });

  it('adds the points of each factor, largest first, with what made it', () => {
    const risk = endpointRisk(
      entry({
        method: 'post',
        route: '/accounts/{id}/cards/{uuid}/at/{date}',
        params: ['card_number', 'email', 'phone', 'ssn', 'dob', 'api_key'],
        auth: { token: 63, mtls: 0, key: 0, none: 37 },
        state: 'shadow',
      }),
    );
    expect(risk.factors).toEqual([
      { factor: 'unauthenticated', points: 25, detail: '37% of accepted calls carried no credential' },
      { factor: 'sensitive_credential', points: 20, detail: 'credential parameters: api_key' },
      { factor: 'sensitive_payment', points: 20, detail: 'payment parameters: card_number' },
      { factor: 'sensitive_personal', points: 15, detail: 'personal parameters: email, phone, ssn and 1 more' },
      { factor: 'shadow', points: 15, detail: 'shadow: called but absent from the catalogue' },
      // {date} is a value, not an object
      { factor: 'object_ids', points: 10, detail: 'object ids in the path: {id}, {uuid}' },
      { factor: 'writes', points: 10, detail: 'POST changes state' },
    ]);
    // 115 points, capped
    expect(risk).toMatchObject({ score: 100, level: 'high' });
  });

  it('weighs the state: zombie, shadow, new; a reviewed or catalogued entry has none', () => {
    const points = (state: ApiEntry['state']) => endpointRisk(entry({ state })).score;
    expect(['zombie', 'shadow', 'new', 'catalogued', 'reviewed'].map((s) => points(s as ApiEntry['state']))).toEqual([
      20, 15, 5, 0, 0,
    ]);
  });

  it('takes a learnt parameter, a catalogue name and the :id and <id> forms as object ids; {num} and {date} not', () => {
    const ids = (route: string) => endpointRisk(entry({ route })).factors.find((f) => f.factor === 'object_ids');
    for (const route of ['/users/{param}', '/keys/{keyName}', '/users/:userId/posts', '/items/<item_id>'])
      expect(ids(route)?.points, route).toBe(10);
    for (const route of ['/prices/{num}', '/reports/{date}', '/users/me', '/files/{name}.json'])
      expect(ids(route), route).toBeUndefined();
  });

  it('an entry without credential counts (a sensor that never reports them) is not called unauthenticated', () => {
    expect(endpointRisk(entry({ auth: undefined })).factors).toEqual([]);
    expect(endpointRisk(entry({ auth: { token: 0, mtls: 0, key: 0, none: 3 } })).factors[0]).toEqual({
      factor: 'unauthenticated',
      points: 25,
      detail: '100% of accepted calls carried no credential',
    });
  });

  it('weighs open alerts: 15 with a high or critical one, else 5, naming their kinds', () => {
    const byEndpoint = alertsByEndpoint([
      { service: 'billing', endpoint: 'GET /invoices', kind: 'error_burst', severity: 'medium' },
      { service: 'billing', endpoint: 'GET /invoices', kind: 'enumeration', severity: 'high' },
      { service: 'billing', endpoint: 'GET /invoices', kind: 'enumeration', severity: 'low' },
      { service: 'billing', endpoint: 'GET /refunds', kind: 'error_burst', severity: 'low' },
      // another service's endpoint of the same name, and an alert naming no endpoint
      { service: 'shop', endpoint: 'GET /invoices', kind: 'fan_out', severity: 'critical' },
      { service: 'billing', kind: 'traffic_drop', severity: 'critical' },
    ]);
    expect([...byEndpoint.keys()]).toEqual([
      endpointKey('billing', 'GET /invoices'),
      endpointKey('billing', 'GET /refunds'),
      endpointKey('shop', 'GET /invoices'),
    ]);
    const invoices = byEndpoint.get(endpointKey('billing', 'GET /invoices'));
    expect(endpointRisk(entry(), undefined, invoices).factors).toEqual([
      {
        factor: 'open_alerts_severe',
        points: 15,
        detail: 'open alerts, one high or critical: error_burst, enumeration',
      },
    ]);
    const refunds = byEndpoint.get(endpointKey('billing', 'GET /refunds'));
    expect(endpointRisk(entry({ route: '/refunds' }), undefined, refunds).factors).toEqual([
      { factor: 'open_alerts', points: 5, detail: 'open alerts: error_burst' },
    ]);
  });

  it('uses the configured points and levels; a factor given 0 is left out', () => {
    const model = riskModelOf({ points: { shadow: 50, writes: 0 }, levels: { high: 80, medium: 40 } });
    const risk = endpointRisk(entry({ method: 'DELETE', state: 'shadow' }), model);
    expect(risk).toEqual({
      score: 50,
      level: 'medium',
      factors: [{ factor: 'shadow', points: 50, detail: 'shadow: called but absent from the catalogue' }],
    });
    expect(model.points.zombie).toBe(ENDPOINT_RISK.points.zombie);
  });

  it('levels: high at 60, medium at 30 by default', () => {
    expect([0, 29, 30, 59, 60, 100].map((s) => riskLevel(s))).toEqual([
      'low',
      'low',
      'medium',
      'medium',
      'high',
      'high',
    ]);
  });

  it('refuses a medium threshold not below the high one', () => {
    expect(() => riskModelOf({ levels: { medium: 60 } })).toThrow(
      'api.inventory_risk.levels: medium (60) must be below high (60)',
    );
  });
});

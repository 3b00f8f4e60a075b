import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, resolveConfig } from './load.js';

describe('config', () => {
  it('fills defaults for an empty document', () => {
    const c = resolveConfig({});
    expect(c.bus.kind).toBe('memory');
    expect(c.collector.listen).toBe('127.0.0.1:7071');
    expect(c.correlator.window_seconds).toBe(60);
    expect([c.collector.request_timeout_seconds, c.api.request_timeout_seconds]).toEqual([60, 30]);
    expect(c.api.retention).toEqual({
      resolved_alert_days: 30,
      alert_days: 180,
      max_alerts: 100_000,
      access_log_entries: 100_000,
    });
    expect(resolveConfig({ api: { retention: { alert_days: 90 } } }).api.retention).toMatchObject({
      resolved_alert_days: 30,
      alert_days: 90,
    });
  });

  it('names the bad key', () => {
    expect(() => resolveConfig({ collector: { listen: 7 } })).toThrow(/collector\.listen: /);
    expect(() => resolveConfig({ colector: {} })).toThrow(/colector/);
    expect(() => resolveConfig({ bus: { kind: 'kafka' } })).toThrow(/bus\.kafka\.brokers: /);
    expect(() => resolveConfig({ correlator: { root_cause: { across_service: true } } })).toThrow(
      /correlator\.root_cause\.across_service: /,
    );
    expect(() => resolveConfig({ api: { retention: { max_alerts: 5 } } })).toThrow(/api\.retention\.max_alerts: /);
    expect(() => resolveConfig({ api: { retention: { resolved_alert_days: 0 } } })).toThrow(
      /api\.retention\.resolved_alert_days: /,
    );
  });

  it('refuses a request timeout that is not a whole number of seconds from 1 to 3600, naming the key', () => {
    for (const section of ['collector', 'api'] as const) {
      for (const bad of [0, '30', 1.5, 3601]) {
        let err: { code?: string; message?: string } = {};
        try {
          resolveConfig({ [section]: { request_timeout_seconds: bad } });
        } catch (e) {
          err = e as typeof err;
        }
        expect({ code: err.code, message: err.message }, `${section}: ${JSON.stringify(bad)}`).toEqual({
          code: 'MW_ERR_CONFIG_INVALID',
          message: expect.stringContaining(`${section}.request_timeout_seconds: `),
        });
      }
      expect(resolveConfig({ [section]: { request_timeout_seconds: 1 } })[section].request_timeout_seconds).toBe(1);
    }
  });

  it('takes the sensor_quiet threshold and severity, and refuses a bad one naming the key', () => {
    expect(resolveConfig({}).api).toMatchObject({ sensor_quiet_after_minutes: 15, sensor_quiet_severity: 'medium' });
    expect(resolveConfig({ api: { sensor_quiet_after_minutes: 0, sensor_quiet_severity: 'high' } }).api).toMatchObject({
      sensor_quiet_after_minutes: 0,
      sensor_quiet_severity: 'high',
    });
    for (const [key, bad] of [
      ['sensor_quiet_after_minutes', -1],
      ['sensor_quiet_after_minutes', 1.5],
      ['sensor_quiet_after_minutes', '15'],
      ['sensor_quiet_after_minutes', 10_081],
      ['sensor_quiet_severity', 'urgent'],
    ] as const) {
      expect(() => resolveConfig({ api: { [key]: bad } }), `${key}: ${bad}`).toThrow(
        expect.objectContaining({ code: 'MW_ERR_CONFIG_INVALID', message: expect.stringContaining(`api.${key}: `) }),
      );
    }
  });

  it("takes the correlator's idle watermark delay (60 s; 0 = off) and refuses a bad one naming the key", () => {
    expect(resolveConfig({}).correlator.idle_after_seconds).toBe(60);
    expect(resolveConfig({ correlator: { idle_after_seconds: 0 } }).correlator.idle_after_seconds).toBe(0);
    for (const [bad, problem] of [
      [-1, 'correlator.idle_after_seconds: Expected integer to be greater or equal to 0'],
      [1.5, 'correlator.idle_after_seconds: Expected integer'],
      ['60', 'correlator.idle_after_seconds: Expected integer'],
      [86_401, 'correlator.idle_after_seconds: Expected integer to be less or equal to 86400'],
    ] as const) {
      expect(() => resolveConfig({ correlator: { idle_after_seconds: bad } }), `${bad}`).toThrow(
        expect.objectContaining({ code: 'MW_ERR_CONFIG_INVALID', details: { problems: [problem] } }),
      );
    }
  });

  it('takes a sensor_quiet threshold per sensor kind, any kind, and refuses a bad minute count or kind naming it', () => {
    expect(resolveConfig({}).api.sensor_quiet_by_kind).toBeUndefined();
    const byKind = { idp: 240, bus: 0, envoy_wasm: 5, 'a-kind-no-sensor-ships-yet': 10_080, ['k'.repeat(64)]: 1 };
    expect(resolveConfig({ api: { sensor_quiet_by_kind: byKind } }).api.sensor_quiet_by_kind).toEqual(byKind);
    for (const [kind, bad, problem] of [
      ['idp', -1, 'api.sensor_quiet_by_kind.idp: Expected integer to be greater or equal to 0'],
      ['idp', 1.5, 'api.sensor_quiet_by_kind.idp: Expected integer'],
      ['idp', '240', 'api.sensor_quiet_by_kind.idp: Expected integer'],
      ['idp', null, 'api.sensor_quiet_by_kind.idp: Expected integer'],
      ['idp', 10_081, 'api.sensor_quiet_by_kind.idp: Expected integer to be less or equal to 10080'],
      ['k'.repeat(65), 5, `api.sensor_quiet_by_kind.${'k'.repeat(65)}: Expected a key matching ^.{1,64}$`],
      ['', 5, 'api.sensor_quiet_by_kind."": Expected a key matching ^.{1,64}$'],
    ] as const) {
      expect(
        () => resolveConfig({ api: { sensor_quiet_by_kind: { nginx: 5, [kind]: bad } } }),
        `${kind}: ${bad}`,
      ).toThrow(expect.objectContaining({ code: 'MW_ERR_CONFIG_INVALID', details: { problems: [problem] } }));
    }
    expect(() => resolveConfig({ api: { sensor_quiet_by_kind: [240] } })).toThrow(/api\.sensor_quiet_by_kind: /);
  });

  it('refuses a list (or any non-mapping) where a map or a section is expected, naming its key', () => {
    // before: TypeBox's Value.Default turned `[…]` given where an object has a default into `{"0": …}`, then accepted
    for (const [doc, problem] of [
      [{ api: [] }, 'api: Expected an object, got an array'],
      [{ store: ['redis'] }, 'store: Expected an object, got an array'],
      [
        { correlator: { root_cause: { symptoms_at: ['callers'] } } },
        'correlator.root_cause.symptoms_at: Expected an object (a map of keys to one of callers, callees, none), got an array',
      ],
      [
        { api: { sensor_quiet_by_kind: [240] } },
        'api.sensor_quiet_by_kind: Expected an object (a map of keys to integers), got an array',
      ],
      [
        { api: { sensor_quiet_by_kind: 5 } },
        'api.sensor_quiet_by_kind: Expected an object (a map of keys to integers), got a number',
      ],
      [{ detectors: ['api_discovery'] }, 'detectors: Expected an object (a map of keys to values), got an array'],
      [{ sinks: 'webhook' }, 'sinks: Expected an object (a map of keys to values), got a string'],
      [{ receivers: [] }, 'receivers: Expected an object (a map of keys to values), got an array'],
      [{ actions: [{ policy_file: 'p.yaml' }] }, 'actions: Expected an object (a map of keys to values), got an array'],
    ] as const) {
      expect(() => resolveConfig(doc as Record<string, unknown>), JSON.stringify(doc)).toThrow(
        expect.objectContaining({ code: 'MW_ERR_CONFIG_INVALID', details: { problems: [problem] } }),
      );
    }
  });

  it("takes the inventory risk score's points and levels, and refuses an unknown factor or bad levels naming them", () => {
    expect(resolveConfig({}).api.inventory_risk).toBeUndefined();
    const risk = { points: { shadow: 30, open_alerts: 0 }, levels: { high: 70 } };
    expect(resolveConfig({ api: { inventory_risk: risk } }).api.inventory_risk).toEqual(risk);
    for (const [inventory_risk, problem] of [
      [
        { points: { shadow: 30, shadow_api: 15 } },
        'api.inventory_risk.points.shadow_api: Expected a key matching ^(unauthenticated|sensitive_credential|sensitive_payment|sensitive_personal|zombie|shadow|new|object_ids|writes|open_alerts_severe|open_alerts)$',
      ],
      [{ points: { writes: 101 } }, 'api.inventory_risk.points.writes: Expected integer to be less or equal to 100'],
      [{ points: { writes: -1 } }, 'api.inventory_risk.points.writes: Expected integer to be greater or equal to 0'],
      [{ levels: { low: 10 } }, 'api.inventory_risk.levels.low: Unexpected property'],
      [{ levels: { high: 0 } }, 'api.inventory_risk.levels.high: Expected integer to be greater or equal to 1'],
    ] as const) {
      expect(() => resolveConfig({ api: { inventory_risk } }), JSON.stringify(inventory_risk)).toThrow(
        expect.objectContaining({ code: 'MW_ERR_CONFIG_INVALID', details: { problems: [problem] } }),
      );
    }
    // across the two thresholds: medium must stay below high (the default high is 60)
    expect(() => resolveConfig({ api: { inventory_risk: { levels: { medium: 65 } } } }, {}, 'meshward.yaml')).toThrow(
      expect.objectContaining({
        code: 'MW_ERR_CONFIG_INVALID',
        message:
          'configuration is invalid: meshward.yaml: api.inventory_risk.levels: medium (65) must be below high (60)',
      }),
    );
  });

  it('takes the root-cause folding settings with their defaults', () => {
    expect(resolveConfig({}).correlator.root_cause).toBeUndefined();
    const c = resolveConfig({ correlator: { root_cause: { across_services: true } } });
    expect(c.correlator.root_cause).toMatchObject({ enabled: true, across_services: true, fold_within_seconds: 300 });
  });

  it('applies overrides: --kafka and --redis switch to the distributed engines', () => {
    const c = resolveConfig({}, { kafka: 'a:9092,b:9092', redis: 'redis://x:6379' });
    expect(c.bus).toMatchObject({ kind: 'kafka', kafka: { brokers: ['a:9092', 'b:9092'], idempotent: true } });
    expect(c.store).toMatchObject({ kind: 'redis', url: 'redis://x:6379' });
  });

  it('rejects prototype-pollution keys instead of merging them', () => {
    const doc = JSON.parse('{"__proto__": {"polluted": true}, "bus": {"constructor": {"x": 1}}}');
    expect(() => resolveConfig(doc)).toThrow(/CONFIG|Unexpected|constructor|__proto__/i);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses a file with a YAML tag it cannot resolve (fails fast, not a string it did not mean)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mw-config-'));
    try {
      const file = join(dir, 'meshward.yaml');
      writeFileSync(file, 'collector:\n  listen: !Ref collector_address\n');
      expect(() => loadConfig(file)).toThrow(/is not valid YAML: .*Unresolved tag: !Ref/s);
      writeFileSync(file, 'collector:\n  listen: 127.0.0.1:7071\n');
      expect(loadConfig(file).collector.listen).toBe('127.0.0.1:7071');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

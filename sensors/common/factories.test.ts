import { Value } from '@sinclair/typebox/value';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { kongHttpLogFactory } from '../../pipeline/receivers/kong-http-log/factory.js';
import { otlpTracesFactory } from '../../pipeline/receivers/otlp-traces/factory.js';
import { syslogReceiverFactory } from '../../pipeline/receivers/syslog/factory.js';
import { busSensorFactory } from '../bus/factory.js';
import { gatewaySensorFactory } from '../gateway/factory.js';
import { CapturingIngest } from './capturing-ingest.js';
import { loadConfig } from './load-config.js';
import { ShipperConfigSchema, defaultShipperConfig } from './shipper-config.js';
import { ONE_TOPIC_MAPPING } from '../bus/testdata/one-topic-mapping.js';

/** every component of this area: the default config is what loading an empty config gives, and it validates */
describe('factories of sensors and receivers', () => {
  it.each([
    ['fastify', gatewaySensorFactory],
    ['syslog', syslogReceiverFactory],
    ['kong_http_log', kongHttpLogFactory],
    ['otlp_traces', otlpTracesFactory],
    ['bus', busSensorFactory],
  ] as const)('%s: type id, default config valid and equal to the schema defaults', (type, f) => {
    expect(f.type).toBe(type);
    expect(f.type).toMatch(/^[a-z][a-z0-9_]*$/);
    expect(Value.Check(f.configSchema, f.defaultConfig)).toBe(true);
    expect(loadConfig(f.configSchema, {})).toEqual(f.defaultConfig);
  });

  it('shipper config: defaults valid and complete', () => {
    expect(loadConfig(ShipperConfigSchema, {})).toEqual(defaultShipperConfig);
  });

  it('create → start → shutdown → shutdown again', async () => {
    const ingest = new CapturingIngest();
    const syslog = syslogReceiverFactory.create(
      { ...syslogReceiverFactory.defaultConfig, listen_udp: '127.0.0.1:0', listen_tcp: '127.0.0.1:0' },
      { ingest },
    );
    await syslog.start();
    await syslog.shutdown();
    await syslog.shutdown();

    const app = Fastify();
    const key = { token_hash_key: 'factory-token-hash-key' };
    const gw = gatewaySensorFactory.create(
      { ...gatewaySensorFactory.defaultConfig, ...key },
      { sink: { push: () => true } },
    );
    await app.register(gw.plugin, gw.options);
    await kongHttpLogFactory.create({ ...kongHttpLogFactory.defaultConfig, ...key }, { ingest })(app);
    await otlpTracesFactory.create({ ...otlpTracesFactory.defaultConfig }, { ingest })(app);
    await app.ready();
    await app.close();
    await app.close();

    const bus = busSensorFactory.create(
      {
        ...busSensorFactory.defaultConfig,
        mapping: ONE_TOPIC_MAPPING,
      },
      { ingest },
    );
    await bus.shutdown();
    await bus.shutdown();
  });
});

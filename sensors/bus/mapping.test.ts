import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileMapping, loadMappingFile, parseMapping } from './mapping.js';

describe('bus mapping file', () => {
  it('loads and compiles the example mapping with defaults filled in', () => {
    const m = loadMappingFile(join(import.meta.dirname, 'testdata', 'mapping.yaml'));
    expect(m.topics[2]).toEqual({
      topic: 'audit.events',
      service: 'audit',
      operation: 'record',
      caller_kind: 'service',
      correlation_header: 'correlation-id',
      timeout_ms: 30_000,
    });
    const c = compileMapping(m);
    expect(c.topics.sort()).toEqual(
      ['audit.events', 'orders.replies', 'orders.requests', 'payments.replies', 'payments.requests'].sort(),
    );
    expect(c.byReplyTopic.get('orders.replies')?.map((t) => t.service)).toEqual(['orders']);
  });

  it.each([
    ['not YAML', 'topics: [\n  - {', /not valid YAML/],
    ['no topics', 'topics: []', /topics/],
    ['missing service', 'topics:\n  - topic: a.b', /service/],
    ['bad topic name', 'topics:\n  - { topic: "a b", service: s }', /topic/],
    ['unknown key', 'topics:\n  - { topic: a, service: s, reply: b }', /reply/],
    ['negative timeout', 'topics:\n  - { topic: a, service: s, timeout_ms: -1 }', /timeout_ms/],
  ])('rejects %s with CONFIG_INVALID', (_name, yaml, msg) => {
    expect(() => parseMapping(yaml)).toThrow(msg);
    try {
      parseMapping(yaml);
    } catch (err) {
      expect((err as { code: string }).code).toBe('MW_ERR_CONFIG_INVALID');
    }
  });

  it('rejects topics mapped twice or serving as both request and reply topic', () => {
    expect(() =>
      compileMapping(parseMapping('topics:\n  - { topic: a, service: s }\n  - { topic: a, service: t }')),
    ).toThrow(/mapped twice/);
    expect(() =>
      compileMapping(
        parseMapping('topics:\n  - { topic: a, service: s, reply_topic: b }\n  - { topic: b, service: t }'),
      ),
    ).toThrow(/both a request topic and a reply topic/);
    expect(() => compileMapping(parseMapping('topics:\n  - { topic: a, service: s, reply_topic: a }'))).toThrow(
      /own reply_topic/,
    );
  });

  it('reports a missing mapping file clearly', () => {
    expect(() => loadMappingFile('/nonexistent/mapping.yaml')).toThrow(/bus mapping file/);
  });
});

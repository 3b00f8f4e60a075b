import { describe, expect, it } from 'vitest';
import '../detectors/all.js';
import { resolveConfig } from '../config/load.js';
import { checkSections } from './check-sections.js';

describe('config sections checked before any role starts', () => {
  it('refuse a bad section naming the file and the key; a good config passes', () => {
    const check = (doc: Record<string, unknown>) => () => checkSections(resolveConfig(doc), '/etc/meshward.yaml');
    expect(check({})).not.toThrow();
    expect(check({ detectors: { enumeration: { min_distinct: 'x' } } })).toThrow(
      /^configuration is invalid: \/etc\/meshward\.yaml: detectors\.enumeration\.min_distinct: Expected integer$/,
    );
    expect(check({ detectors: { enumerashun: {} } })).toThrow(
      /\/etc\/meshward\.yaml: detectors\.enumerashun: unknown detector type/,
    );
    expect(check({ sinks: { 'webhook/x': { url: 'ftp://nope' } } })).toThrow(
      /\/etc\/meshward\.yaml: sinks\.webhook\/x\.url: /,
    );
    expect(check({ receivers: { syslog: { listen_udp: 5 } } })).toThrow(
      /\/etc\/meshward\.yaml: receivers\.syslog\.listen_udp: /,
    );
    expect(check({ receivers: { syslog: { listen_tcp: '5514' } } })).toThrow(
      /\/etc\/meshward\.yaml: receivers\.syslog\.listen_tcp: /,
    );
    // no built-in token hash key: a receiver that hashes tokens needs one, from a file or inline, not both
    expect(check({ receivers: { kong_http_log: { tokens: [] } } })).toThrow(
      /^configuration is invalid: \/etc\/meshward\.yaml: receivers\.kong_http_log: token_hash_key_file \(or token_hash_key\) is required/,
    );
    expect(check({ receivers: { 'idp/keycloak': { idp_name: 'keycloak' } } })).toThrow(
      /\/etc\/meshward\.yaml: receivers\.idp\/keycloak: token_hash_key_file \(or token_hash_key\) is required/,
    );
    expect(
      check({ receivers: { kong_http_log: { token_hash_key: 'k'.repeat(16), token_hash_key_file: '/run/k' } } }),
    ).toThrow(/receivers\.kong_http_log: token_hash_key and token_hash_key_file: give one of them, not both/);
    expect(
      check({ receivers: { kong_http_log: { token_hash_key_file: '/run/secrets/token-hash-key' } } }),
    ).not.toThrow();
    // the OTLP trace receiver may go without a key (it then drops Authorization attributes), never with two
    expect(check({ receivers: { otlp_traces: {} } })).not.toThrow();
    expect(
      check({ receivers: { otlp_traces: { token_hash_key: 'k'.repeat(16), token_hash_key_file: '/run/k' } } }),
    ).toThrow(/receivers\.otlp_traces: token_hash_key and token_hash_key_file: give one of them, not both/);
    expect(check({ receivers: { 'otlp_traces/mesh': { tokens: ['short'] } } })).toThrow(
      /\/etc\/meshward\.yaml: receivers\.otlp_traces\/mesh\.tokens\.0: must be at least 16 characters/,
    );
    expect(check({ receivers: { otlp_traces: { listen: '0.0.0.0:4318' } } })).toThrow(
      /receivers\.otlp_traces\.listen: Unexpected property/,
    );
    expect(check({ actions: { listen: '127.0.0.1:0' } })).toThrow(/\/etc\/meshward\.yaml: actions\.policy_file: /);
    // a custom_rules list file is read where the detectors run (the correlator, `meshward check` of it), not by
    // every role: a collector need not have the feed mounted; a rule naming a list of neither kind is refused by all
    const tor = { list_files: { tor_exits: '/nonexistent/tor-exits.txt' } };
    expect(check({ detectors: { custom_rules: tor } })).not.toThrow();
    const rule = (when: string) => ({ detectors: { custom_rules: { ...tor, rules: [{ name: 'tor', when }] } } });
    expect(check(rule('source.ip in lists.tor_exits'))).not.toThrow();
    expect(check(rule('source.ip in lists.tor_exit'))).toThrow(
      /^configuration is invalid: \/etc\/meshward\.yaml: detectors\.custom_rules\.rules\[tor\]\.when: no list named tor_exit /,
    );
    // an adapter's settings too, before the correlator or the collector started
    expect(check({ actions: { policy_file: '/p.yaml', 'gateways/nginx': { map_file: '/x' } } })).toThrow(
      /^configuration is invalid: \/etc\/meshward\.yaml: actions\.gateways\/nginx\.map_file: Unexpected property$/,
    );
    expect(check({ actions: { policy_file: '/p.yaml', 'gateways/ngnix': {} } })).toThrow(
      /\/etc\/meshward\.yaml: actions\.gateways\/ngnix: unknown adapter type/,
    );
    expect(
      check({ actions: { policy_file: '/p.yaml', 'gateways/nginx': { map_dir: '/etc/nginx/mw' } } }),
    ).not.toThrow();
  });
});

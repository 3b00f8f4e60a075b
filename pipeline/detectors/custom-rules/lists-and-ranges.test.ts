import { describe, expect, it } from 'vitest';
import '../all.js';
import type { ApiCallRecord } from '../../core/record.js';
import { compileDetectors } from '../registry.js';
import { CapturingContext } from '../shared/capture.js';
import { checkConfig } from '../shared/detector-kit.js';
import { CustomRulesConfigSchema } from './config.js';
import { customRulesFactory } from './factory.js';

let n = 0;
const call = (o: Partial<ApiCallRecord> = {}): ApiCallRecord => ({
  id: `r${n++}`,
  ts: n * 1000,
  durationMs: 3,
  sensor: { kind: 'test', id: 't' },
  service: 'admin',
  method: 'POST',
  host: 'admin.svc',
  path: '/admin/users',
  route: '/admin/users',
  status: 200,
  reqBytes: 0,
  respBytes: 0,
  source: { ip: '10.0.0.9' },
  ...o,
});

const LISTS = {
  admin_ips: ['10.1.2.3', '10.1.2.4'],
  scanners_ua: ['sqlmap', 'nikto'],
  office_ranges: ['192.168.0.0/16', '2001:db8:100::/48', '203.0.113.7'],
};

const detector = (rules: Record<string, unknown>[], lists: Record<string, unknown> = LISTS) =>
  customRulesFactory.create(
    customRulesFactory.prepare!(checkConfig('custom_rules', CustomRulesConfigSchema, { lists, rules })),
  );

/** the rules that match each record (threshold 1, a detector of its own: its first match signals) */
const matched = (rules: Record<string, unknown>[], records: ApiCallRecord[], lists?: Record<string, unknown>) =>
  records.map((r) => {
    const d = detector(rules, lists);
    const ctx = new CapturingContext();
    d.observe!(r, ctx);
    return ctx.signals.map((s) => s.labels?.rule);
  });

const problemsOf = (rules: unknown[], lists: unknown = LISTS): string[] => {
  try {
    compileDetectors({ custom_rules: { lists, rules } });
  } catch (err) {
    return (err as { details?: { problems: string[] } }).details?.problems ?? [(err as Error).message];
  }
  return [];
};

describe('custom_rules named lists', () => {
  it('reads a list in a condition: `in`, its negation, and exists() over it', () => {
    const rules = [
      { name: 'admin-ip', when: 'source.ip in lists.admin_ips' },
      { name: 'not-admin-ip', when: '!(source.ip in lists.admin_ips)' },
      { name: 'scanner-ua', when: 'lists.scanners_ua.exists(u, tags["header.user-agent"].contains(u))' },
    ];
    expect(
      matched(rules, [
        call({ source: { ip: '10.1.2.4' } }),
        call({ source: { ip: '10.1.2.5' }, tags: { 'header.user-agent': 'sqlmap/1.7.2#stable' } }),
        call({ source: { ip: '10.1.2.3' }, tags: { 'header.user-agent': 'Mozilla/5.0' } }),
      ]),
    ).toEqual([['admin-ip'], ['not-admin-ip', 'scanner-ua'], ['admin-ip']]);
  });

  it('inList(value, list) answers as `in` does, for a named list of 10,000 entries and a literal one', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => `10.9.${Math.floor(i / 256)}.${i % 256}`);
    const lists = { ...LISTS, many };
    const rules = [
      { name: 'by-set', when: 'inList(source.ip, lists.many)' },
      { name: 'by-scan', when: 'source.ip in lists.many' },
      { name: 'literal', when: 'inList(method, ["DELETE", "PATCH"])' },
    ];
    const records = [
      call({ source: { ip: '10.9.0.0' } }),
      call({ source: { ip: '10.9.39.15' }, method: 'DELETE' }),
      call({ source: { ip: '10.9.39.16' } }),
      call({ source: {} }),
    ];
    expect(matched(rules, records, lists)).toEqual([['by-set', 'by-scan'], ['by-set', 'by-scan', 'literal'], [], []]);
    expect(problemsOf([{ name: 'typed', when: 'inList(status, lists.many)' }], lists)[0]).toMatch(
      /rules\[typed\]\.when: .*inList/,
    );
  });

  it('refuses at load a rule naming a list that is not defined, naming the rule and the lists there are', () => {
    expect(problemsOf([{ name: 'typo', when: 'source.ip in lists.admin_ip' }])).toEqual([
      'detectors.custom_rules.rules[typo].when: no list named admin_ip in detectors.custom_rules.lists or list_files (defined: admin_ips, scanners_ua, office_ranges) at column 20',
    ]);
    expect(problemsOf([{ name: 'none', when: 'lists.scanners.exists(u, host == u)' }], {})).toEqual([
      'detectors.custom_rules.rules[none].when: no list named scanners in detectors.custom_rules.lists or list_files (none defined) at column 7',
    ]);
    // a list is a list of strings: compared with an int, the type check says so
    expect(problemsOf([{ name: 'int', when: 'status in lists.admin_ips' }])[0]).toMatch(
      /^detectors\.custom_rules\.rules\[int\]\.when: no such overload: int in list<string>/,
    );
  });

  it('bounds the lists: names lower_snake_case and no CEL reserved word, entries strings of bounded count and length', () => {
    expect(problemsOf([], { 'Admin-IPs': ['x'] })).toEqual([
      'detectors.custom_rules.lists.Admin-IPs: Expected a key matching ^[a-z][a-z0-9_]{0,63}$',
    ]);
    expect(problemsOf([], { ips: [1] })[0]).toMatch(/detectors\.custom_rules\.lists\.ips\.0: Expected string/);
    expect(problemsOf([], { ips: Array(10_001).fill('x') })[0]).toMatch(
      /detectors\.custom_rules\.lists\.ips: Expected array length to be less or equal to 10000/,
    );
    expect(problemsOf([], { ips: ['x'.repeat(513)] })[0]).toMatch(/lists\.ips\.0: Expected string length less/);
    const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`l${i}`, []]));
    expect(problemsOf([], many)[0]).toMatch(/detectors\.custom_rules\.lists: Expected object to have no more than 100/);
    expect(problemsOf([], { in: ['x'], null: [] })).toEqual([
      'detectors.custom_rules.lists.in: a CEL reserved word cannot name a list (lists.in would not parse)',
      'detectors.custom_rules.lists.null: a CEL reserved word cannot name a list (lists.null would not parse)',
    ]);
    expect(problemsOf([], { ips: Array(10_000).fill('10.0.0.1'), empty: [] })).toEqual([]);
  });
});

describe('custom_rules inCidr()', () => {
  it('tests an address against a literal range, IPv4 and IPv6', () => {
    const rules = [
      { name: 'v4', when: 'inCidr(source.ip, "10.0.0.0/8")' },
      { name: 'v6', when: 'inCidr(source.ip, "fd00::/8")' },
    ];
    expect(
      matched(rules, [
        call({ source: { ip: '10.200.1.1' } }),
        call({ source: { ip: 'fd12::7' } }),
        call({ source: { ip: '172.16.0.1' } }),
        call({ source: { ip: 'fe80::1' } }),
      ]),
    ).toEqual([['v4'], ['v6'], [], []]);
  });

  it('tests an address against a named list of ranges and addresses, and a literal list', () => {
    const rules = [
      { name: 'office', when: 'inCidr(source.ip, lists.office_ranges)' },
      { name: 'private', when: 'inCidr(source.ip, ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"])' },
    ];
    expect(
      matched(rules, [
        call({ source: { ip: '192.168.4.2' } }),
        call({ source: { ip: '2001:db8:100:7::1' } }),
        call({ source: { ip: '203.0.113.7' } }),
        call({ source: { ip: '203.0.113.8' } }),
        call({ source: { ip: '172.20.0.1' } }),
      ]),
    ).toEqual([['office', 'private'], ['office'], ['office'], [], ['private']]);
  });

  it('finds no address where the record has none or a malformed one: no match, not an error', () => {
    const d = detector([{ name: 'outside', when: '!inCidr(source.ip, "10.0.0.0/8")' }]);
    const ctx = new CapturingContext();
    d.observe!(call({ source: {} }), ctx);
    d.observe!(call({ source: { ip: 'unknown' } }), ctx);
    expect(ctx.signals).toHaveLength(2);
    expect(d.stats?.()).toMatchObject({ errors: 0 });
  });

  it('refuses at load an invalid literal range, in a literal list too, and a named list it is given with one', () => {
    expect(problemsOf([{ name: 'bad', when: 'inCidr(source.ip, "10.0.0.0/33")' }])).toEqual([
      'detectors.custom_rules.rules[bad].when: the range of inCidr() is invalid: not a CIDR range or an address: "10.0.0.0/33" (e.g. "10.0.0.0/8", "fd00::/8", "10.1.2.3")',
    ]);
    expect(problemsOf([{ name: 'bad-list', when: 'inCidr(source.ip, ["10.0.0.0/8", "office"])' }])).toEqual([
      'detectors.custom_rules.rules[bad-list].when: the list of inCidr() is invalid: not a CIDR range or an address: "office" (e.g. "10.0.0.0/8", "fd00::/8", "10.1.2.3")',
    ]);
    expect(problemsOf([{ name: 'ua-as-ranges', when: 'inCidr(source.ip, lists.scanners_ua)' }])).toEqual([
      'detectors.custom_rules.rules[ua-as-ranges].when: the list lists.scanners_ua of inCidr() is invalid: not a CIDR range or an address: "sqlmap" (e.g. "10.0.0.0/8", "fd00::/8", "10.1.2.3")',
    ]);
    expect(problemsOf([{ name: 'typed', when: 'inCidr(source.ip, 8)' }])[0]).toMatch(
      /^detectors\.custom_rules\.rules\[typed\]\.when: found no matching overload for 'inCidr\(string, int\)'/,
    );
  });

  it('counts a computed range that is invalid as the rule’s evaluation error, never throwing', () => {
    const d = detector([{ name: 'computed', when: 'inCidr(source.ip, tags.range)' }]);
    const ctx = new CapturingContext();
    d.observe!(call({ tags: { range: '10.0.0.0/8' } }), ctx);
    expect(() => d.observe!(call({ tags: { range: 'nope' } }), ctx)).not.toThrow();
    expect(ctx.signals).toHaveLength(1);
    expect(d.stats?.()).toMatchObject({ errors: 1, matches: 1 });
  });
});

describe('custom_rules with a list and a range, end to end', () => {
  it('raises on admin calls from outside the office ranges by no admin address, and on a known scanner', () => {
    const d = detector([
      {
        name: 'admin-from-outside',
        severity: 'high',
        when: 'route.startsWith("/admin/") && !inCidr(source.ip, lists.office_ranges) && !(source.ip in lists.admin_ips)',
        group_by: ['source.ip'],
        threshold: 2,
      },
      {
        name: 'scanner-ua',
        when: '"header.user-agent" in tags && lists.scanners_ua.exists(s, tags["header.user-agent"].lowerAscii().contains(s))',
        group_by: ['source.ip'],
      },
    ]);
    const ctx = new CapturingContext();
    const records = [
      call({ source: { ip: '192.168.7.7' } }), // the office
      call({ source: { ip: '10.1.2.3' } }), // an admin's address
      call({ source: { ip: '198.51.100.9' } }),
      call({ source: { ip: '198.51.100.9' }, route: '/orders', path: '/orders' }), // not an admin route
      call({ source: { ip: '198.51.100.9' }, tags: { 'header.user-agent': 'Mozilla/5.0 (Nikto/2.5.0)' } }),
      call({ source: { ip: '2001:db8:100::20' } }), // the office, IPv6
    ];
    for (const r of records) d.observe!(r, ctx);
    expect(ctx.signals.map((s) => [s.labels?.rule, s.subject?.value, s.recordIds])).toEqual([
      ['admin-from-outside', '198.51.100.9', [records[2].id, records[4].id]],
      ['scanner-ua', '198.51.100.9', [records[4].id]],
    ]);
    expect(d.stats?.()).toMatchObject({ errors: 0, alerts: 2 });
  });
});

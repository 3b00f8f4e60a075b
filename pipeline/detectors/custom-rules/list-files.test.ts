import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../all.js';
import { registry } from '../../core/metrics.js';
import type { ApiCallRecord } from '../../core/record.js';
import { compileDetectors } from '../registry.js';
import { CapturingContext } from '../shared/capture.js';
import { checkConfig } from '../shared/detector-kit.js';
import { type CompiledCustomRules, compileRules } from './compile-rules.js';
import { CustomRulesConfigSchema } from './config.js';
import { CustomRulesDetector } from './custom-rules.js';
import { readListFile } from './list-files.js';

const dir = mkdtempSync(join(tmpdir(), 'mw-list-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let version = 1_700_000_000;
/** writes a list file with a modification time of its own, so that every rewrite is a change whatever its size */
function listFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  version += 10;
  utimesSync(path, version, version);
  return path;
}

let n = 0;
const call = (ip: string, ua = 'Mozilla/5.0'): ApiCallRecord => ({
  id: `r${n++}`,
  ts: n * 1000,
  durationMs: 3,
  sensor: { kind: 'test', id: 't' },
  service: 'shop',
  method: 'GET',
  host: 'shop.svc',
  path: '/cart',
  route: '/cart',
  status: 200,
  reqBytes: 0,
  respBytes: 0,
  source: { ip },
  tags: { 'header.user-agent': ua },
});

const RULES = [
  { name: 'tor-exit', when: 'inList(source.ip, lists.tor_exits)' },
  { name: 'bad-range', when: 'inCidr(source.ip, lists.bad_ranges)' },
  { name: 'scanner-ua', when: 'inList(tags["header.user-agent"], lists.scanners_ua)' },
];

/** the rules that match a record, each record through a fresh detector of the compiled set (threshold 1) */
const matched = (compiled: CompiledCustomRules, records: ApiCallRecord[]) =>
  records.map((r) => {
    const ctx = new CapturingContext();
    new CustomRulesDetector(compiled).observe!(r, ctx);
    return ctx.signals.map((s) => s.labels?.rule);
  });

const compile = (raw: Record<string, unknown>, now: () => number = Date.now) =>
  compileRules(checkConfig('custom_rules', CustomRulesConfigSchema, { lists: { scanners_ua: ['nikto'] }, ...raw }), {
    now,
  });

const problemsOf = (raw: Record<string, unknown>): string[] => {
  try {
    compileDetectors({ custom_rules: raw });
  } catch (err) {
    return (err as { details?: { problems: string[] } }).details?.problems ?? [(err as Error).message];
  }
  return [];
};

const counted = async (name: string, list: string): Promise<number> => {
  const metric = registry.getSingleMetric(name);
  const values = (await metric?.get())?.values ?? [];
  return values.find((v) => v.labels.list === list)?.value ?? 0;
};

describe('custom_rules list files', () => {
  it('reads one entry a line, trimmed, skipping blank lines and # comments', () => {
    const path = listFile(
      'feed.txt',
      '# Tor exit nodes, 2026-12-02\n\n  185.220.101.1  \r\n#185.220.101.2\n\t2001:db8::9\n',
    );
    expect(readListFile(path)).toEqual(['185.220.101.1', '2001:db8::9']);
    expect(readListFile(listFile('empty.txt', '# nothing yet\n'))).toEqual([]);
  });

  it('gives a file list to the rules as lists.<name>: inList, inCidr, beside an inline list', () => {
    const compiled = compile({
      lists: { scanners_ua: ['sqlmap/1.7', 'nikto'] },
      list_files: {
        tor_exits: listFile('tor.txt', '# exits\n185.220.101.1\n185.220.101.2\n'),
        bad_ranges: listFile('ranges.txt', '203.0.113.0/24\n2001:db8:bad::/48\n198.51.100.7\n'),
      },
      rules: [...RULES, { name: 'size', when: 'size(lists.tor_exits) == 2 && source.ip == "10.0.0.1"' }],
    });
    expect(
      matched(compiled, [
        call('185.220.101.2'),
        call('203.0.113.77'),
        call('2001:db8:bad::1'),
        call('198.51.100.7', 'nikto'),
        call('10.0.0.1'),
        call('185.220.101.3'),
      ]),
    ).toEqual([['tor-exit'], ['bad-range'], ['bad-range'], ['bad-range', 'scanner-ua'], ['size'], []]);
    expect(new CustomRulesDetector(compiled).stats()).toMatchObject({
      list_files: 2,
      list_file_entries: 5,
      list_reloads: 0,
      list_reload_failures: 0,
    });
  });

  it('refuses at load a file that cannot be read, a long entry, too many entries, a name given twice, an invalid range for inCidr', () => {
    const missing = join(dir, 'no-such-feed.txt');
    expect(problemsOf({ list_files: { tor_exits: missing }, rules: [RULES[0]] })).toEqual([
      `detectors.custom_rules.list_files.tor_exits: cannot read ${missing}: ENOENT: no such file or directory, open '${missing}'`,
    ]);
    const long = listFile('long.txt', `# ok\nsqlmap\n${'x'.repeat(513)}\n`);
    expect(problemsOf({ list_files: { scanners_ua: long } })).toEqual([
      `detectors.custom_rules.list_files.scanners_ua: ${long} line 3: an entry longer than 512 characters`,
    ]);
    // 512 characters is an entry still
    expect(problemsOf({ list_files: { scanners_ua: listFile('max.txt', 'x'.repeat(512)) } })).toEqual([]);
    const huge = listFile('huge.txt', '#\nx\n'.repeat(1_000_001));
    expect(problemsOf({ list_files: { scanners_ua: huge } })).toEqual([
      `detectors.custom_rules.list_files.scanners_ua: ${huge} line 2000002: more than 1,000,000 entries`,
    ]);
    const tor = listFile('tor-2.txt', '185.220.101.1\n');
    expect(problemsOf({ lists: { tor_exits: ['1.2.3.4'] }, list_files: { tor_exits: tor } })).toEqual([
      'detectors.custom_rules.list_files.tor_exits: a list of this name is in detectors.custom_rules.lists too (give each list once)',
    ]);
    const ranges = listFile('bad-ranges.txt', '203.0.113.0/24\n10.0.0.0/33\n');
    expect(problemsOf({ list_files: { bad_ranges: ranges }, rules: [RULES[1]] })).toEqual([
      'detectors.custom_rules.rules[bad-range].when: the list lists.bad_ranges of inCidr() is invalid: not a CIDR range or an address: "10.0.0.0/33" (e.g. "10.0.0.0/8", "fd00::/8", "10.1.2.3")',
    ]);
    // the same file, read by a rule that does not take it as ranges, is a list of strings
    expect(
      problemsOf({ list_files: { bad_ranges: ranges }, rules: [{ name: 'x', when: 'source.ip in lists.bad_ranges' }] }),
    ).toEqual([]);
    expect(problemsOf({ list_files: { 'Tor-Exits': tor } })[0]).toMatch(
      /^detectors\.custom_rules\.list_files\.Tor-Exits: Expected a key matching/,
    );
    expect(problemsOf({ list_files: { null: tor } })).toEqual([
      'detectors.custom_rules.list_files.null: a CEL reserved word cannot name a list (lists.null would not parse)',
    ]);
  });

  it('takes up a changed file at the next refresh once list_reload_seconds passed: the rules and inCidr see the new contents', async () => {
    let now = 1_000_000;
    const tor = listFile('tor-reload.txt', '185.220.101.1\n');
    const ranges = listFile('ranges-reload.txt', '203.0.113.0/24\n');
    const compiled = compile(
      { list_files: { tor_exits: tor, bad_ranges: ranges }, list_reload_seconds: 60, rules: RULES },
      () => now,
    );
    const detector = new CustomRulesDetector(compiled);
    const before = await counted('meshward_custom_rule_list_reloads_total', 'bad_ranges');
    // answered (and remembered by inCidr) before the change
    expect(matched(compiled, [call('185.220.101.9'), call('198.51.100.7')])).toEqual([[], []]);

    listFile('tor-reload.txt', '185.220.101.1\n185.220.101.9\n');
    listFile('ranges-reload.txt', '203.0.113.0/24\n198.51.100.0/24\n');
    now += 59_999;
    detector.refresh();
    expect(matched(compiled, [call('185.220.101.9'), call('198.51.100.7')])).toEqual([[], []]);
    now += 1;
    detector.refresh();
    expect(matched(compiled, [call('185.220.101.9'), call('198.51.100.7'), call('203.0.113.5')])).toEqual([
      ['tor-exit'],
      ['bad-range'],
      ['bad-range'],
    ]);
    expect(await counted('meshward_custom_rule_list_reloads_total', 'bad_ranges')).toBe(before + 1);
    expect(detector.stats()).toMatchObject({ list_file_entries: 4, list_reloads: 2, list_reload_failures: 0 });

    // an unchanged file is not read again
    now += 60_000;
    detector.refresh();
    expect(detector.stats()).toMatchObject({ list_reloads: 2 });
  });

  it('keeps the contents in force when a changed file cannot be taken up, counting it once per change', async () => {
    let now = 0;
    const ranges = listFile('ranges-fail.txt', '203.0.113.0/24\n');
    const tor = listFile('tor-fail.txt', '185.220.101.1\n');
    const compiled = compile(
      { list_files: { bad_ranges: ranges, tor_exits: tor }, list_reload_seconds: 1, rules: RULES },
      () => now,
    );
    const detector = new CustomRulesDetector(compiled);
    const failuresBefore = await counted('meshward_custom_rule_list_reload_failures_total', 'bad_ranges');

    listFile('ranges-fail.txt', '198.51.100.0/24\nnot-a-range\n');
    rmSync(tor);
    now += 1000;
    detector.refresh();
    expect(matched(compiled, [call('203.0.113.5'), call('198.51.100.7'), call('185.220.101.1')])).toEqual([
      ['bad-range'],
      [],
      ['tor-exit'],
    ]);
    expect(await counted('meshward_custom_rule_list_reload_failures_total', 'bad_ranges')).toBe(failuresBefore + 1);
    expect(detector.stats()).toMatchObject({ list_file_entries: 2, list_reloads: 0, list_reload_failures: 2 });

    // the same bad versions: not read, counted or logged again
    now += 1000;
    detector.refresh();
    expect(detector.stats()).toMatchObject({ list_reload_failures: 2 });

    // fixed: taken up
    listFile('ranges-fail.txt', '198.51.100.0/24\n');
    now += 1000;
    detector.refresh();
    expect(matched(compiled, [call('203.0.113.5'), call('198.51.100.7')])).toEqual([[], ['bad-range']]);
    expect(detector.stats()).toMatchObject({ list_reloads: 1, list_reload_failures: 2 });
    expect(await counted('meshward_custom_rule_list_reload_failures_total', 'bad_ranges')).toBe(failuresBefore + 1);
  });

  it('never reads a file again with list_reload_seconds: 0', () => {
    let now = 0;
    const tor = listFile('tor-never.txt', '185.220.101.1\n');
    const compiled = compile({ list_files: { tor_exits: tor }, list_reload_seconds: 0, rules: [RULES[0]] }, () => now);
    listFile('tor-never.txt', '185.220.101.9\n');
    now += 86_400_000;
    new CustomRulesDetector(compiled).refresh();
    expect(matched(compiled, [call('185.220.101.1'), call('185.220.101.9')])).toEqual([['tor-exit'], []]);
  });
});

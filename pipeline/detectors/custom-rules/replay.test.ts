import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../all.js';
import { parsePolicy } from '../../../policy-actions/engine/policy.js';
import type { Alert } from '../../core/alert.js';
import { runReplayFile } from '../../correlator/replay-file.js';

const testdata = join(import.meta.dirname, 'testdata', 'admin-deletes');

describe('custom_rules through `meshward replay`', () => {
  it('raises one alert per rule and subject, with its rule label, that a policy rule can match', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mw-custom-rules-')), 'alerts.jsonl');
    const result = await runReplayFile({
      input: join(testdata, 'records.jsonl'),
      out,
      config: join(testdata, 'config.yaml'),
    });
    expect(result).toMatchObject({ records: 199, rejected: 0 });
    const alerts = readFileSync(out, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Alert)
      .filter((a) => a.kind === 'custom_rule');
    expect(
      alerts.map((a) => ({ rule: a.labels?.rule, subject: a.subject, severity: a.severity, service: a.service })),
    ).toEqual([
      { rule: 'admin-deletes', subject: { type: 'user', value: '42' }, severity: 'high', service: 'admin' },
      { rule: 'scanner-404s', subject: { type: 'ip', value: '203.0.113.50' }, severity: 'medium', service: 'admin' },
    ]);
    const [deletes, scanner] = alerts;
    expect(deletes.summary).toBe(
      'admin-deletes: user 42 made 5 matching calls in 1 min (DELETE /admin/users/{id}); many deletes on the admin API by one user',
    );
    // raised at the 5th delete; the 6th and 7th do not double the count: one signal
    expect(deletes).toMatchObject({ count: 1, evidence: { metrics: { requests: 5, threshold: 5 } } });
    expect(deletes.evidence.recordIds).toHaveLength(5);
    expect(scanner.summary).toMatch(/^scanner-404s: ip 203\.0\.113\.50 made 10 matching calls in 1 min \(/);

    const policy = parsePolicy(`
version: 1
rules:
  - name: hold-admin-deleters
    match: { kinds: [custom_rule], labels: { rule: [admin-deletes] } }
    action: { type: rate_limit, scope: user, ttl: 1h }
    dry_run: true
`);
    expect(alerts.map((a) => policy.rules[0].matches(a))).toEqual([true, false]);
  });
});

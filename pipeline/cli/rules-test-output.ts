import type { RulesTestResult } from './rules-test.js';

/** `meshward rules test --records`: a row per rule, then each rule's samples, first error and alerts */
export function rulesTestTable(r: RulesTestResult): string {
  const rows = [
    '| rule | matched | errors | ungrouped | groups | largest group | alerts |',
    '|---|---|---|---|---|---|---|',
    ...r.rules.map(
      (o) =>
        `| ${o.rule}${o.disabled ? ' (disabled)' : ''} | ${o.matched} | ${o.errors} | ${o.ungrouped} | ${o.groups}${o.groupsCapped ? '+' : ''} | ${o.largestGroup} | ${o.alerts} |`,
    ),
  ];
  const details: string[] = [];
  for (const o of r.rules) {
    const lines: string[] = [];
    if (o.samples.length > 0) lines.push(`  samples: ${o.samples.join(', ')}`);
    if (o.firstError) lines.push(`  first error: record ${o.firstError.recordId}: ${o.firstError.message}`);
    for (const s of o.alertSummaries) lines.push(`  alert: ${s}`);
    if (o.alerts > o.alertSummaries.length) lines.push(`  … and ${o.alerts - o.alertSummaries.length} more alerts`);
    if (lines.length > 0) details.push(`${o.rule}\n${lines.join('\n')}`);
  }
  const note = `${r.records} records${r.rejected ? ` (${r.rejected} lines rejected; first: ${r.firstRejection})` : ''}`;
  return `${rows.join('\n')}\n\n${details.length > 0 ? `${details.join('\n')}\n\n` : ''}${note}\n`;
}

/** `meshward rules test --record`: per rule, matched / not matched / error, and the values its condition read */
export function ruleOutcomeLines(r: RulesTestResult): string {
  const lines: string[] = [];
  for (const o of r.rules) {
    const why =
      o.outcome === 'error'
        ? `error: ${o.firstError?.message ?? ''}`
        : o.outcome === 'matched' && o.ungrouped > 0
          ? 'matched (ungrouped: its group_by values are all empty, the detector leaves it out)'
          : (o.outcome ?? 'not matched');
    lines.push(`${o.rule}${o.disabled ? ' (disabled)' : ''}: ${why}`);
    const values = Object.entries(o.variables ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    if (values.length > 0) lines.push(`  ${values.join(' ')}`);
    for (const s of o.alertSummaries) lines.push(`  alert: ${s}`);
  }
  return `${lines.join('\n')}\n`;
}

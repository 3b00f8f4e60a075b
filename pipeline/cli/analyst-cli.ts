import Table from 'cli-table3';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type MeshwardError, mwError } from '../core/errors.js';
import { type AnalystConnection, analystConnection } from './analyst-client.js';

/** where a command writes what it answers (stdout; tests collect it) */
export type Out = (text: string) => void;

/** what every analyst command shares: where it writes, the API it calls, its answer as text or JSON */
export interface AnalystCli {
  out: Out;
  connection(cmd: Command): AnalystConnection;
  /** whether --json was given */
  json(cmd: Command): boolean;
  asJson(doc: unknown): string;
  /** the API's answer as JSON with --json, else as the command's text */
  answer(cmd: Command, doc: unknown, text: () => string): void;
  /** a command group, with the connection options (--api, --key-file) and --json */
  group(program: Command, name: string, description: string): Command;
  /** the exit code of a command that succeeded but has something to signal (`sensors --quiet`: 1 when some are) */
  exitCode(code: number): void;
}

/** sets the code the process exits with once the command is done (tests collect it instead) */
export type ExitCode = (code: number) => void;

export function analystCli(
  out: Out,
  exitCode: ExitCode = (code) => {
    process.exitCode = code;
  },
): AnalystCli {
  const json = (cmd: Command) => Boolean(cmd.optsWithGlobals().json);
  const asJson = (doc: unknown) => `${JSON.stringify(doc, null, 2)}\n`;
  return {
    out,
    connection: (cmd) => analystConnection(cmd.optsWithGlobals()),
    json,
    asJson,
    answer: (cmd, doc, text) => out(json(cmd) ? asJson(doc) : text()),
    group: (program, name, description) =>
      program
        .command(name)
        .description(description)
        .addOption(new Option('--api <url>', 'the analyst API (default $MESHWARD_API_URL, else http://127.0.0.1:7070)'))
        .addOption(
          new Option(
            '--key-file <file>',
            'a file holding the API key, or the demo credentials JSON (default: $MESHWARD_API_KEY)',
          ),
        )
        .option('--json', 'print the API answer as JSON'),
    exitCode,
  };
}

/** a borderless table, as kubectl prints one: a header row, then one line per item */
export function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({
    head,
    chars: Object.fromEntries(
      [
        'top',
        'top-mid',
        'top-left',
        'top-right',
        'bottom',
        'bottom-mid',
        'bottom-left',
        'bottom-right',
        'left',
        'left-mid',
        'mid',
        'mid-mid',
        'right',
        'right-mid',
        'middle',
      ].map((k) => [k, '']),
    ),
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 2 },
  });
  t.push(...rows.map((r) => r.map(String)));
  return `${t.toString().replace(/ +$/gm, '')}\n`;
}

export const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
/** how long ago, as the console says it ("12s ago", "5m ago", "3h ago", "2d ago"; "in 3h" for a time ahead) */
export function ago(ms: number, now = Date.now()): string {
  const diff = now - ms;
  const s = Math.abs(diff) / 1000;
  if (s < 5) return 'just now';
  const text =
    s < 60
      ? `${Math.round(s)}s`
      : s < 3600
        ? `${Math.round(s / 60)}m`
        : s < 86_400
          ? `${Math.round(s / 3600)}h`
          : `${Math.round(s / 86_400)}d`;
  return diff >= 0 ? `${text} ago` : `in ${text}`;
}
/** a time as the analyst commands print one that matters by its age: `5m ago (2026-12-02T05:21:55Z)` */
export const agoIso = (ms: number, now = Date.now()) => `${ago(ms, now)} (${iso(ms)})`;
export const oneLine = (s: string, max = 70) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** `30m`, `4h`, `7d` → minutes */
export function minutes(v: string): number {
  const m = /^(\d+)(m|h|d)$/.exec(v.trim());
  if (!m) throw new InvalidArgumentError('a duration such as 30m, 4h or 7d');
  return Number(m[1]) * { m: 1, h: 60, d: 1440 }[m[2] as 'm' | 'h' | 'd'];
}

/** what a bulk route left aside, split: the ids it did not find, and the others with why they were left */
export function splitSkipped<S extends { id: string; reason: string }>(
  skipped: S[],
): {
  missing: string[];
  left: S[];
} {
  return {
    missing: skipped.filter((s) => s.reason === 'not found').map((s) => s.id),
    left: skipped.filter((s) => s.reason !== 'not found'),
  };
}

/**
 * the error a command ends with when ids it was given do not exist (printed on stderr, exit code 2, after what was
 * done with the others): `not found: alert alr_1`, `not found: alerts alr_1, alr_2`
 */
export function notFound(kind: [one: string, many: string], ids: string[]): MeshwardError {
  return mwError('NOT_FOUND', `${ids.length === 1 ? kind[0] : kind[1]} ${ids.join(', ')}`, { ids });
}

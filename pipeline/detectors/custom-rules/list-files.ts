import { readFileSync, statSync } from 'node:fs';
import { counter } from '../../core/metrics.js';
import { createLogger, type Logger } from '../../core/logger.js';
import type { CidrMatchers } from './cidr.js';
import { listSet } from './record-variables.js';

/** at most this many entries in one list file (a threat-intel feed: Tor exits, scanner agents, bad ranges) */
export const MAX_FILE_LIST_ENTRIES = 1_000_000;
/** the longest entry, as for an inline list */
export const MAX_LIST_ENTRY_LENGTH = 512;

const reloads = counter(
  'meshward_custom_rule_list_reloads_total',
  'custom_rules list files (detectors.custom_rules.list_files) read again after they changed on disk',
  ['list'],
);
const reloadFailures = counter(
  'meshward_custom_rule_list_reload_failures_total',
  'custom_rules list files that changed on disk but could not be taken up (unreadable, too long, an invalid range for inCidr): the previous contents stay; once per change',
  ['list'],
);
let logger: Logger | undefined;
const log = (): Logger => (logger ??= createLogger({ name: 'custom_rules', destination: process.stderr }));

/**
 * A list file's entries: one a line, surrounding whitespace trimmed, blank lines and lines starting with `#` skipped.
 * Throws a plain message naming the file (and the line) for an unreadable file, an entry over 512 characters, or more
 * than 1,000,000 entries. Frozen: the rules see the same array at every evaluation (inList's set, inCidr's ranges
 * are kept by its identity).
 */
export function readListFile(path: string): readonly string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as Error).message}`);
  }
  const entries: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const entry = lines[i].trim();
    if (entry === '' || entry.startsWith('#')) continue;
    if (entry.length > MAX_LIST_ENTRY_LENGTH)
      throw new Error(`${path} line ${i + 1}: an entry longer than ${MAX_LIST_ENTRY_LENGTH} characters`);
    if (entries.length === MAX_FILE_LIST_ENTRIES)
      throw new Error(`${path} line ${i + 1}: more than ${MAX_FILE_LIST_ENTRIES.toLocaleString('en')} entries`);
    entries.push(entry);
  }
  return Object.freeze(entries);
}

/** what a file's size and modification time were: a change of either is a change of the file */
function versionOf(path: string): string {
  try {
    const s = statSync(path);
    return `${s.size}:${s.mtimeMs}`;
  } catch (err) {
    return `unreadable:${(err as NodeJS.ErrnoException).code ?? ''}`;
  }
}

interface ListFile {
  name: string;
  path: string;
  /** the version of the file last read, whether it was taken up or refused (a refused one is not read again) */
  version: string;
  /** entries in force */
  size: number;
}

export interface ListFileStats {
  files: number;
  entries: number;
  reloads: number;
  failures: number;
}

/**
 * The named lists read from files, and their reload: every `reloadMs` at most (0: never), a file whose size or
 * modification time changed is read again and its new contents swapped in, whole, in the field of the lists object
 * the rules read (`lists.<name>`), after inCidr's ranges for it were made (when a rule gives it to inCidr). A change
 * that cannot be taken up (unreadable, too long, an invalid range) leaves the contents in force, counted and logged
 * once. Shared by the shards of the process (what the factory's prepare returns): one read per change.
 */
export class ListFiles {
  private readonly files: ListFile[];
  /** when the files were last looked at */
  private checkedAt: number;
  private reloads = 0;
  private failures = 0;

  constructor(
    loaded: readonly ListFile[],
    /** the lists object the rules read: a file list's field is replaced on reload */
    private readonly target: Record<string, readonly string[]>,
    private readonly cidrs: CidrMatchers,
    /**
     * the lists some rule gives to inCidr (their ranges are made, and so checked, before the swap) or to inList (its
     * set made before the swap, not by the first record after it: ~0.5 s for a million entries)
     */
    private readonly usedBy: { cidr: ReadonlySet<string>; set: ReadonlySet<string> },
    private readonly reloadMs: number,
    private readonly now: () => number,
  ) {
    this.files = loaded.map((f) => ({ ...f }));
    this.checkedAt = now();
    for (const f of this.files) if (usedBy.set.has(f.name)) listSet(target[f.name]);
  }

  /** the files' entries at load, with their versions; a file that cannot be read is a problem naming the key and file */
  static load(listFiles: Readonly<Record<string, string>>): {
    lists: Record<string, readonly string[]>;
    loaded: ListFile[];
    problems: string[];
  } {
    const lists: Record<string, readonly string[]> = {};
    const loaded: ListFile[] = [];
    const problems: string[] = [];
    for (const [name, path] of Object.entries(listFiles)) {
      // the version before the read: a change during it is seen at the next check
      const version = versionOf(path);
      try {
        const entries = readListFile(path);
        lists[name] = entries;
        loaded.push({ name, path, version, size: entries.length });
      } catch (err) {
        problems.push(`detectors.custom_rules.list_files.${name}: ${(err as Error).message}`);
      }
    }
    return { lists, loaded, problems };
  }

  /** takes up the files changed on disk, when reloadMs passed since the last look; off the record path */
  refresh(): void {
    if (this.reloadMs === 0 || this.files.length === 0) return;
    const now = this.now();
    if (now - this.checkedAt < this.reloadMs) return;
    this.checkedAt = now;
    for (const f of this.files) {
      const version = versionOf(f.path);
      if (version === f.version) continue;
      f.version = version;
      this.reload(f);
    }
  }

  private reload(f: ListFile): void {
    let entries: readonly string[];
    try {
      entries = readListFile(f.path);
      // the new array's ranges, made before it is seen (a new array: a new matcher; the old one goes with the old array)
      if (this.usedBy.cidr.has(f.name)) this.cidrs.prepareList(entries);
      if (this.usedBy.set.has(f.name)) listSet(entries);
    } catch (err) {
      this.failures++;
      reloadFailures.inc({ list: f.name });
      log().error(
        { list: f.name, file: f.path, err: (err as Error).message },
        `custom_rules: the changed list file of lists.${f.name} cannot be taken up; the list in force (${f.size} ${f.size === 1 ? 'entry' : 'entries'}) stays`,
      );
      return;
    }
    this.target[f.name] = entries;
    f.size = entries.length;
    this.reloads++;
    reloads.inc({ list: f.name });
  }

  stats(): ListFileStats {
    let entries = 0;
    for (const f of this.files) entries += f.size;
    return { files: this.files.length, entries, reloads: this.reloads, failures: this.failures };
  }
}

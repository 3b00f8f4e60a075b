import { randomBytes } from 'node:crypto';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mwError } from '../../pipeline/core/errors.js';

/**
 * The desired deny entries of a map-based gateway (HAProxy maps, nginx map files), indexed by decision. Several
 * decisions may need the same gateway entry (same IP from two alerts): the entry stays until the last one is gone.
 * The index is persisted as JSON so a restarted adapter still knows each entry's decision and expiry.
 */
export interface DenyEntry {
  /** which gateway map/file the entry belongs to, e.g. `ip`, `key`, `route` */
  map: string;
  key: string;
}

interface IndexedDecision {
  id: string;
  until: number;
  entries: DenyEntry[];
}

interface IndexFile {
  v: 1;
  decisions: IndexedDecision[];
}

const refOf = (e: DenyEntry): string => `${e.map}\u0000${e.key}`;

export class DenyIndex {
  private readonly decisions = new Map<string, IndexedDecision>();
  /** entry ref → ids of the decisions that need it (insertion order: the first is the entry's value) */
  private readonly refs = new Map<string, { entry: DenyEntry; ids: Set<string> }>();

  get size(): number {
    return this.decisions.size;
  }

  has(id: string): boolean {
    return this.decisions.has(id);
  }

  /** whether some decision needs this entry */
  holds(entry: DenyEntry): boolean {
    return this.refs.has(refOf(entry));
  }

  /** Record a decision; returns the entries that no other decision held before (the ones to add at the gateway). */
  add(id: string, until: number, entries: DenyEntry[]): DenyEntry[] {
    const previous = this.decisions.get(id);
    if (previous) {
      previous.until = until;
      return [];
    }
    this.decisions.set(id, { id, until, entries });
    const fresh: DenyEntry[] = [];
    for (const entry of entries) {
      const ref = refOf(entry);
      const held = this.refs.get(ref);
      if (held) held.ids.add(id);
      else {
        this.refs.set(ref, { entry, ids: new Set([id]) });
        fresh.push(entry);
      }
    }
    return fresh;
  }

  /** Forget a decision; returns the entries no remaining decision needs (the ones to remove at the gateway). */
  remove(id: string): DenyEntry[] {
    const d = this.decisions.get(id);
    if (!d) return [];
    this.decisions.delete(id);
    const freed: DenyEntry[] = [];
    for (const entry of d.entries) {
      const ref = refOf(entry);
      const held = this.refs.get(ref);
      if (!held) continue;
      held.ids.delete(id);
      if (held.ids.size === 0) {
        this.refs.delete(ref);
        freed.push(entry);
      }
    }
    return freed;
  }

  /** ids of decisions whose `until` is at or before `now` */
  expired(now: number): string[] {
    const out: string[] = [];
    for (const d of this.decisions.values()) if (d.until <= now) out.push(d.id);
    return out;
  }

  /** the desired contents of one map: key → the id of the first decision holding it, sorted by key */
  entriesOf(map: string): { key: string; id: string }[] {
    const out: { key: string; id: string }[] = [];
    for (const { entry, ids } of this.refs.values()) {
      if (entry.map === map) out.push({ key: entry.key, id: ids.values().next().value as string });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  toJSON(): IndexFile {
    return { v: 1, decisions: [...this.decisions.values()] };
  }

  static fromJSON(data: unknown): DenyIndex {
    const index = new DenyIndex();
    const file = data as Partial<IndexFile> | null;
    if (file?.v !== 1 || !Array.isArray(file.decisions)) {
      throw mwError('CONFIG_INVALID', 'deny state file is not a meshward deny index (v1)');
    }
    for (const d of file.decisions) {
      if (typeof d?.id !== 'string' || typeof d.until !== 'number' || !Array.isArray(d.entries)) continue;
      index.add(
        d.id,
        d.until,
        d.entries.filter((e) => typeof e?.map === 'string' && typeof e.key === 'string'),
      );
    }
    return index;
  }

  /** load from a state file; a missing file is an empty index */
  static async load(path: string): Promise<DenyIndex> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new DenyIndex();
      throw mwError('CONFIG_INVALID', `cannot read deny state file ${path}`, undefined, err);
    }
    try {
      return DenyIndex.fromJSON(JSON.parse(text));
    } catch (err) {
      throw mwError('CONFIG_INVALID', `deny state file ${path} is not valid JSON`, undefined, err);
    }
  }

  save(path: string): Promise<void> {
    return atomicWrite(path, `${JSON.stringify(this.toJSON())}\n`);
  }
}

/**
 * A map-based gateway's index in its state file (`state_file`, by default `<map_dir>/meshward-deny.json`): loaded once
 * and shared by concurrent callers; a failed load is tried again next time.
 */
export class DenyIndexFile {
  readonly path: string;
  private index: Promise<DenyIndex> | undefined;

  constructor(config: { map_dir: string; state_file?: string }) {
    this.path = config.state_file ?? join(config.map_dir, 'meshward-deny.json');
  }

  async load(): Promise<DenyIndex> {
    if (!this.index)
      this.index = DenyIndex.load(this.path).catch((err) => {
        this.index = undefined;
        throw err;
      });
    return this.index;
  }
}

/** write a file so readers see either the old or the new contents: temp file in the same folder, then rename */
export async function atomicWrite(path: string, text: string): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, text, { mode: 0o644 });
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

import type { MeshScope } from '../detector.js';
import type { BoundedMap } from '../shared/bounded-map.js';
import { inChunks } from '../shared/in-chunks.js';
import type { CompiledRule } from './compile-rules.js';
import { GROUP_KEY_SEP } from './rule-outcome.js';
import { claimAlert } from '../shared/mesh-keys.js';
import { readTotal, type SharedTotal, sharedCountKey, writeShare } from './shared-count.js';

/** the part of a group's count that a count across partitions keeps besides the local one */
export interface SharedGroupFields {
  count: number;
  /** the count at which the group's alert is signalled next: the threshold, then each doubling of the total */
  next: number;
  /** counted across partitions: the window's index (event time over window_seconds; windows are aligned) */
  window?: number;
  /** the count this shard last wrote to the store (its share) */
  synced?: number;
  /** true: this shard signals the group's alert; false: another partition does; absent: nobody yet */
  signals?: boolean;
}

/**
 * a window a group has moved past whose last matches came after the last sync: its share is still to be written, and
 * its total may still reach a level (the group as it was at the end of that window)
 */
export interface FinalShare<G> {
  key: string;
  g: G;
}

/** shares of windows moved past kept for the next sync, at most (more are dropped and counted) */
const MAX_FINALS = 50_000;
/** groups written per sync at most: the rest wait for the next one */
const MAX_WRITES = 5_000;

/** a shared count outlives its window: partitions a little behind still add to it */
export const sharedTtlMs = (rule: CompiledRule): number => Math.max(2 * rule.windowMs, 600_000);

export type SignalShared<G> = (rule: CompiledRule, key: string, g: G, total: SharedTotal) => void;

/**
 * One shard's side of the counts custom rules keep across partitions (count_across_partitions). The shard counts its
 * own matches per group and aligned window as before; syncing writes each changed group's count to the store as this
 * partition's share and reads the total back. The first partition to see a total reach the rule's threshold claims
 * the group's alert and signals it, then again at each doubling of the total (it re-reads the totals of the alerts
 * it signals at every sync, so the other partitions' matches raise them too).
 */
export class MeshCounts<G extends SharedGroupFields> {
  private readonly dirty = new Set<string>();
  private readonly signalling = new Set<string>();
  private finals: FinalShare<G>[] = [];
  private finalsDropped = 0;
  private writes = 0;

  constructor(readonly scope: MeshScope) {}

  /** a match was counted in the group */
  touched(key: string): void {
    this.dirty.add(key);
  }

  /**
   * the group leaves its window: it moves to a later one, or it is dropped (idle past the longest window, or evicted
   * by max_groups). Its share of that window is written at the next sync when it was not yet
   */
  left(key: string, g: G): void {
    this.dirty.delete(key);
    if (g.signals === true) this.signalling.delete(key);
    if (g.window === undefined || g.count === g.synced) return;
    if (this.finals.length >= MAX_FINALS) {
      this.finalsDropped++;
      return;
    }
    this.finals.push({ key, g });
  }

  /** after a restore: what the checkpoint's groups had not written, and the alerts they signal */
  restored(rows: Iterable<[string, G]>, finals: FinalShare<G>[]): void {
    this.dirty.clear();
    this.signalling.clear();
    for (const [key, g] of rows) {
      if (g.window === undefined) continue;
      if (g.count !== g.synced) this.dirty.add(key);
      if (g.signals === true) this.signalling.add(key);
    }
    this.finals = finals.slice(0, MAX_FINALS);
  }

  /** the shares of windows moved past that are still to be written (for the checkpoint) */
  pendingFinals(): FinalShare<G>[] {
    return [...this.finals];
  }

  /**
   * Writes the changed shares, reads the totals of the alerts this shard signals, and signals what reached its next
   * level. A store failure throws; what was not written stays dirty for the next sync
   */
  async sync(
    groups: BoundedMap<string, G>,
    ruleNamed: (name: string) => CompiledRule | undefined,
    signal: SignalShared<G>,
  ): Promise<void> {
    await this.writeFinals(ruleNamed, signal);
    const keys = [...this.dirty].slice(0, MAX_WRITES);
    const written = new Set<string>();
    await inChunks(keys, async (key) => {
      const g = groups.peek(key);
      const rule = g && ruleNamed(ruleOfKey(key));
      this.dirty.delete(key);
      if (g === undefined || rule === undefined || g.window === undefined) return;
      try {
        await this.write(rule, key, g, signal);
      } catch (err) {
        this.dirty.add(key);
        throw err;
      }
      written.add(key);
    });
    const recheck = [...this.signalling].filter((key) => !written.has(key));
    await inChunks(recheck, async (key) => {
      const g = groups.peek(key);
      const rule = g && ruleNamed(ruleOfKey(key));
      if (g === undefined || rule === undefined || g.window === undefined || g.signals !== true) {
        this.signalling.delete(key);
        return;
      }
      const countKey = sharedCountKey(this.scope, rule.name, g.window, key);
      await this.decide(rule, key, g, countKey, await readTotal(this.scope, countKey), signal);
    });
  }

  /** writes the group's share, then signals its total when it reached the next level */
  private async write(rule: CompiledRule, key: string, g: G, signal: SignalShared<G>): Promise<void> {
    const window = g.window as number;
    const countKey = sharedCountKey(this.scope, rule.name, window, key);
    const total = await writeShare(this.scope, countKey, g.count, sharedTtlMs(rule));
    this.writes++;
    g.synced = g.count;
    await this.decide(rule, key, g, countKey, total, signal);
  }

  /** the total reached the group's next level: signal it when this shard is the one that signals the group */
  private async decide(
    rule: CompiledRule,
    key: string,
    g: G,
    countKey: string,
    total: SharedTotal,
    signal: SignalShared<G>,
  ): Promise<void> {
    if (total.total < g.next) return;
    if (g.signals === undefined) g.signals = await claimAlert(this.scope, countKey, sharedTtlMs(rule));
    if (!g.signals) return;
    this.signalling.add(key);
    g.next = total.total * 2;
    signal(rule, key, g, total);
  }

  private async writeFinals(
    ruleNamed: (name: string) => CompiledRule | undefined,
    signal: SignalShared<G>,
  ): Promise<void> {
    const finals = this.finals;
    this.finals = [];
    try {
      await inChunks(finals, async (f) => {
        const rule = ruleNamed(ruleOfKey(f.key));
        if (rule !== undefined) await this.write(rule, f.key, f.g, signal);
      });
    } catch (err) {
      // what is not written yet is written at the next sync (a share of the failed chunk written meanwhile is then
      // written again: the same absolute number)
      this.finals = [...finals.filter((f) => f.g.synced !== f.g.count), ...this.finals];
      throw err;
    }
  }

  stats(): Record<string, number> {
    return {
      shared_pending: this.dirty.size + this.finals.length,
      shared_signalling: this.signalling.size,
      shared_writes: this.writes,
      shared_finals_dropped: this.finalsDropped,
    };
  }
}

/** the rule's name of a group key (`<rule>\0<values>`) */
const ruleOfKey = (key: string): string => key.split(GROUP_KEY_SEP, 1)[0];

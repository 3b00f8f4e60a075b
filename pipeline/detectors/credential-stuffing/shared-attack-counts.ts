import { sharesOf } from '../../store/shares.js';
import type { MeshScope } from '../detector.js';
import { BoundedMap } from '../shared/bounded-map.js';
import { inChunks } from '../shared/in-chunks.js';
import { claimAlert, meshKey } from '../shared/mesh-keys.js';

/**
 * One attacker's (an address's) or target's (a user's) failed logins in one aligned window on this partition: the
 * distinct users failing (stuffing; up to the threshold, which is all a share needs), the failures, where the last one
 * was, and what the sync did with them
 */
export interface AttackShare {
  /** the window's index: event time over window_ms */
  window: number;
  users: string[];
  failures: number;
  service: string;
  endpoint: string;
  /** the first and the last failure's event time (the first is the shared alert's first seen, so its id) */
  from: number;
  to: number;
  evidence: string[];
  /** the share this shard last wrote */
  synced?: number;
  /** the total at which the shared alert is signalled next: the threshold, then each doubling */
  next: number;
  /** true: this partition signals the key's shared alert in this window; false: another does */
  signals?: boolean;
}

/** what the partitions counted together of one key (an address, a user) in one window */
export interface SharedAttack {
  key: string;
  share: AttackShare;
  /** the shares summed over the partitions */
  total: number;
  partitions: number;
}

/** what a share counts: the distinct users failing (credential stuffing) or the failures (brute force) */
export type ShareOf = 'distinct_users' | 'failures';

/** windows moved past kept for the next sync at most (more are dropped: their last failures stay unshared) */
const MAX_FINALS = 50_000;
/** keys written per sync at most (the rest at the next) */
const MAX_WRITES = 5_000;

/** the store key of a key's shares in a window (the address or user hashed: bounded length, not written out) */
export const attackKey = (scope: MeshScope, kind: string, window: number, key: string): string =>
  meshKey(scope, kind, [window], key);

/**
 * Failed logins counted across partitions (Detector.joinMesh). Records are partitioned by service, so an address
 * failing at the login endpoints of several services shows each shard a part of its distinct users (credential
 * stuffing), and a user attacked at several shows each a part of its failures (brute force), none of which may reach
 * the threshold. Each shard counts them per key in aligned windows and, at each sync, writes its count as its
 * partition's share of the key's (Store.setShare: absolute, so a replay never counts twice). When the total reaches
 * the threshold while no partition alone does (that one raises its own alert), the first partition to claim it
 * signals one alert for the key, and again at each doubling of the total.
 */
export class SharedAttackCounts {
  private readonly counted: BoundedMap<string, AttackShare>;
  private readonly unwritten = new Set<string>();
  /** windows moved past whose last failures came after the last sync: their shares are written at the next */
  private finals: { id: string; share: AttackShare }[] = [];
  private readonly signalling = new Set<string>();
  private writes = 0;

  constructor(
    private readonly scope: MeshScope,
    private readonly opts: { kind: string; shareOf: ShareOf; windowMs: number; threshold: number; maxKeys: number },
  ) {
    this.counted = new BoundedMap(opts.maxKeys, opts.windowMs * 2);
  }

  /** a failed login counted for `id` (an address; a user for brute force), of `sub` when it names one */
  failed(id: string, sub: string | undefined, ts: number, at: { service: string; endpoint: string; id: string }): void {
    const window = Math.floor(ts / this.opts.windowMs);
    let a = this.counted.get(id, ts);
    // a late failure of a window moved past: counted where it was seen, not shared (its window's share is written)
    if (a !== undefined && window < a.window) return;
    if (a === undefined || a.window !== window) {
      // the window moved on: what it counted since the last sync is still written, at the next one
      if (a !== undefined && this.unwritten.has(id) && this.finals.length < MAX_FINALS)
        this.finals.push({ id, share: a });
      a = {
        window,
        users: [],
        failures: 0,
        service: at.service,
        endpoint: at.endpoint,
        from: ts,
        to: ts,
        evidence: [],
        next: this.opts.threshold,
      };
      this.counted.set(id, a, ts);
      this.signalling.delete(id);
    }
    a.failures++;
    a.service = at.service;
    a.endpoint = at.endpoint;
    a.to = Math.max(a.to, ts);
    if (a.evidence.length < 10) a.evidence = [...a.evidence, at.id];
    if (this.opts.shareOf === 'failures') {
      if (a.failures <= this.opts.threshold) this.unwritten.add(id);
    } else if (sub !== undefined && a.users.length < this.opts.threshold && !a.users.includes(sub)) {
      a.users = [...a.users, sub];
      this.unwritten.add(id);
    }
  }

  /** this partition's share of a key: its count, up to the threshold (past it the partition alerts on its own) */
  private shareOf(a: AttackShare): number {
    return this.opts.shareOf === 'failures' ? Math.min(a.failures, this.opts.threshold) : a.users.length;
  }

  /**
   * writes the changed shares and reads the totals of the keys this partition signals; `signal` gets what
   * reached its next level. A store failure throws; what was not written stays for the next sync
   */
  async sync(signal: (s: SharedAttack) => void): Promise<void> {
    const finals = this.finals;
    this.finals = [];
    try {
      await inChunks(finals, async (f) => {
        const key = attackKey(this.scope, this.opts.kind, f.share.window, f.id);
        await this.scope.store.setShare(key, String(this.scope.partition), this.shareOf(f.share), this.ttlMs());
        this.writes++;
        f.share.synced = this.shareOf(f.share);
        await this.decide(f.id, f.share, key, signal);
      });
    } catch (err) {
      // those not written yet are written at the next sync (a share written twice is the same absolute number)
      this.finals = [...finals.filter((f) => f.share.synced !== this.shareOf(f.share)), ...this.finals];
      throw err;
    }
    const written = new Set<string>();
    const keys = [...this.unwritten].slice(0, MAX_WRITES);
    await inChunks(keys, async (id) => {
      const a = this.counted.peek(id);
      this.unwritten.delete(id);
      if (a === undefined) return;
      const key = attackKey(this.scope, this.opts.kind, a.window, id);
      const share = this.shareOf(a);
      try {
        await this.scope.store.setShare(key, String(this.scope.partition), share, this.ttlMs());
      } catch (err) {
        this.unwritten.add(id);
        throw err;
      }
      this.writes++;
      a.synced = share;
      written.add(id);
      await this.decide(id, a, key, signal);
    });
    const again = [...this.signalling].filter((id) => !written.has(id));
    await inChunks(again, async (id) => {
      const a = this.counted.peek(id);
      if (a === undefined || a.signals !== true) {
        this.signalling.delete(id);
        return;
      }
      await this.decide(id, a, attackKey(this.scope, this.opts.kind, a.window, id), signal);
    });
  }

  /** the key's total reached its next level: signal it when this partition claims it, and none alone reached it */
  private async decide(id: string, a: AttackShare, key: string, signal: (s: SharedAttack) => void): Promise<void> {
    const shares = Object.values(sharesOf(await this.scope.store.get(key)));
    const total = shares.reduce((sum, n) => sum + n, 0);
    if (shares.length < 2 || total < a.next || Math.max(...shares) >= this.opts.threshold) return;
    a.signals ??= await claimAlert(this.scope, key, this.ttlMs());
    if (!a.signals) return;
    this.signalling.add(id);
    a.next = total * 2;
    signal({ key: id, share: a, total, partitions: shares.length });
  }

  /** a window's shares outlive it: partitions a little behind still add to them */
  private ttlMs(): number {
    return Math.max(2 * this.opts.windowMs, 600_000);
  }

  snapshot(): unknown {
    return {
      counted: this.counted.dump((a) => a),
      unwritten: [...this.unwritten],
      signalling: [...this.signalling],
      finals: this.finals,
    };
  }

  restore(s: { counted?: unknown; unwritten?: unknown; signalling?: unknown; finals?: unknown } | undefined): void {
    this.finals = ((s?.finals ?? []) as { id: string; share: AttackShare }[]).slice(0, MAX_FINALS);
    this.counted.load((s?.counted ?? []) as [string, AttackShare, number][], (a) => a);
    this.unwritten.clear();
    this.signalling.clear();
    for (const id of (s?.unwritten ?? []) as string[]) this.unwritten.add(id);
    for (const id of (s?.signalling ?? []) as string[]) this.signalling.add(id);
  }

  stats(): Record<string, number> {
    return {
      shared_unwritten: this.unwritten.size + this.finals.length,
      shared_signalling: this.signalling.size,
      shared_writes: this.writes,
    };
  }
}

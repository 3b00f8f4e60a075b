import { createHash } from 'node:crypto';
import { sharesOf } from '../../store/shares.js';
import type { MeshScope } from '../detector.js';
import { BoundedMap } from '../shared/bounded-map.js';
import { inChunks } from '../shared/in-chunks.js';

/**
 * One address's failed logins in one aligned window on this partition: the distinct users (up to the threshold, which
 * is all a share needs), the failures, where the last one was, and what the sync did with them
 */
export interface AddressShare {
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
  /** the distinct users this shard last wrote as its share */
  synced?: number;
  /** the total at which the shared alert is signalled next: the threshold, then each doubling */
  next: number;
  /** true: this partition signals the address's shared alert in this window; false: another does */
  signals?: boolean;
}

/** what the partitions counted together of one address in one window */
export interface SharedStuffing {
  ip: string;
  share: AddressShare;
  /** distinct users summed over the partitions (a user failing at two services' partitions counts twice) */
  users: number;
  partitions: number;
}

/** addresses written per sync at most (the rest at the next) */
const MAX_WRITES = 5_000;

/** the store key of an address's shares in a window (the address hashed: bounded length, not written out) */
export function stuffingKey(scope: MeshScope, window: number, ip: string): string {
  return `stuffing:${scope.group}:${window}:${createHash('sha256').update(ip).digest('base64url').slice(0, 22)}`;
}

/**
 * Credential stuffing counted across partitions (Detector.joinMesh). Records are partitioned by service, so an address
 * failing at the login endpoints of several services shows each shard a part of its distinct users, none of which
 * may reach the threshold. Each shard counts the addresses' failures in aligned windows and, at each sync, writes its
 * distinct users as its partition's share of the address's count (Store.setShare: absolute, so a replay never counts
 * twice). When the total reaches the threshold while no partition alone does (that one raises its own alert), the
 * first partition to claim it signals one alert for the address, and again at each doubling of the total.
 */
export class SharedStuffingCounts {
  private readonly addresses: BoundedMap<string, AddressShare>;
  private readonly unwritten = new Set<string>();
  private readonly signalling = new Set<string>();
  private writes = 0;

  constructor(
    private readonly scope: MeshScope,
    private readonly opts: { windowMs: number; threshold: number; maxAddresses: number },
  ) {
    this.addresses = new BoundedMap(opts.maxAddresses, opts.windowMs * 2);
  }

  /** a failed login from `ip` (for `sub`, when it names one) at `service` / `endpoint` */
  failed(ip: string, sub: string | undefined, ts: number, at: { service: string; endpoint: string; id: string }): void {
    const window = Math.floor(ts / this.opts.windowMs);
    let a = this.addresses.get(ip, ts);
    if (a === undefined || a.window !== window) {
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
      this.addresses.set(ip, a, ts);
      this.signalling.delete(ip);
    }
    a.failures++;
    a.service = at.service;
    a.endpoint = at.endpoint;
    a.to = Math.max(a.to, ts);
    if (a.evidence.length < 10) a.evidence = [...a.evidence, at.id];
    if (sub !== undefined && a.users.length < this.opts.threshold && !a.users.includes(sub)) {
      a.users = [...a.users, sub];
      this.unwritten.add(ip);
    }
  }

  /**
   * writes the changed shares and reads the totals of the addresses this partition signals; `signal` gets what
   * reached its next level. A store failure throws; what was not written stays for the next sync
   */
  async sync(signal: (s: SharedStuffing) => void): Promise<void> {
    const written = new Set<string>();
    const keys = [...this.unwritten].slice(0, MAX_WRITES);
    await inChunks(keys, async (ip) => {
      const a = this.addresses.peek(ip);
      this.unwritten.delete(ip);
      if (a === undefined) return;
      const key = stuffingKey(this.scope, a.window, ip);
      try {
        await this.scope.store.setShare(key, String(this.scope.partition), a.users.length, this.ttlMs());
      } catch (err) {
        this.unwritten.add(ip);
        throw err;
      }
      this.writes++;
      a.synced = a.users.length;
      written.add(ip);
      await this.decide(ip, a, key, signal);
    });
    const again = [...this.signalling].filter((ip) => !written.has(ip));
    await inChunks(again, async (ip) => {
      const a = this.addresses.peek(ip);
      if (a === undefined || a.signals !== true) {
        this.signalling.delete(ip);
        return;
      }
      await this.decide(ip, a, stuffingKey(this.scope, a.window, ip), signal);
    });
  }

  /** the address's total reached its next level: signal it when this partition claims it, and none alone reached it */
  private async decide(ip: string, a: AddressShare, key: string, signal: (s: SharedStuffing) => void): Promise<void> {
    const shares = Object.values(sharesOf(await this.scope.store.get(key)));
    const total = shares.reduce((sum, n) => sum + n, 0);
    if (shares.length < 2 || total < a.next || Math.max(...shares) >= this.opts.threshold) return;
    if (a.signals === undefined) {
      const me = String(this.scope.partition);
      a.signals =
        (await this.scope.store.setIfAbsent(`${key}:owner`, me, this.ttlMs())) ||
        (await this.scope.store.get(`${key}:owner`)) === me;
    }
    if (!a.signals) return;
    this.signalling.add(ip);
    a.next = total * 2;
    signal({ ip, share: a, users: total, partitions: shares.length });
  }

  /** a window's shares outlive it: partitions a little behind still add to them */
  private ttlMs(): number {
    return Math.max(2 * this.opts.windowMs, 600_000);
  }

  snapshot(): unknown {
    return {
      addresses: this.addresses.dump((a) => a),
      unwritten: [...this.unwritten],
      signalling: [...this.signalling],
    };
  }

  restore(s: { addresses?: unknown; unwritten?: unknown; signalling?: unknown } | undefined): void {
    this.addresses.load((s?.addresses ?? []) as [string, AddressShare, number][], (a) => a);
    this.unwritten.clear();
    this.signalling.clear();
    for (const ip of (s?.unwritten ?? []) as string[]) this.unwritten.add(ip);
    for (const ip of (s?.signalling ?? []) as string[]) this.signalling.add(ip);
  }

  stats(): Record<string, number> {
    return {
      shared_unwritten: this.unwritten.size,
      shared_signalling: this.signalling.size,
      shared_writes: this.writes,
    };
  }
}

import { join } from 'node:path';
import type { Decision, EnforcedDecision } from '../../../pipeline/core/decision.js';
import { mwError } from '../../../pipeline/core/errors.js';
import type { Logger } from '../../../pipeline/core/logger.js';
import type { ActionAdapter, AdapterResult } from '../../adapter.js';
import { atomicWrite, type DenyEntry, DenyIndexFile } from '../deny-index.js';
import { ALL_METHODS, type DenyTarget, denyTarget, isSubjectDeny, type RouteMatch } from '../deny-keys.js';
import { counted, gatewayMetrics } from '../gateway-metrics.js';
import { withRetry } from '../retry.js';
import type { HaproxyConfig } from './config.js';
import { isNotFound, isOk, parseShowMap, runtimeCommand } from './runtime-api.js';

const GATEWAY = 'haproxy';

/** the three maps of deploy/haproxy/haproxy-deny.cfg */
export const HAPROXY_MAP_FILES: Record<string, string> = {
  ip: 'deny-ip.map',
  key: 'deny-key.map',
  route: 'deny-route.map',
};

const SUBJECT_PREFIX: Record<string, string> = { token: 't', user: 'u', principal: 'p', ip: 'i' };

/** `<METHOD>:<prefix>` for each method a route narrowing covers (HAProxy keys are prefix-matched, one per method) */
function routeSuffixes(route: RouteMatch): string[] {
  return (route.method ? [route.method] : ALL_METHODS).map((m) => `${m}:${route.prefix}`);
}

/** the map entries that enforce one deny (see the key layout in deploy/haproxy/haproxy-deny.cfg) */
export function haproxyEntries(target: DenyTarget): DenyEntry[] {
  if (target.scope === 'route') return routeSuffixes(target.route!).map((s) => ({ map: 'route', key: `r|${s}` }));
  if (!target.route) {
    if (target.scope === 'ip') return [{ map: 'ip', key: target.value }];
    return [{ map: 'key', key: `${SUBJECT_PREFIX[target.scope]}|${target.value}` }];
  }
  if (target.scope === 'ip' && target.value.includes('/')) {
    throw mwError('BAD_REQUEST', 'a route-narrowed deny by IP takes one address, not a CIDR block');
  }
  const subject = `${SUBJECT_PREFIX[target.scope]}|${target.value}`;
  return routeSuffixes(target.route).map((s) => ({ map: 'route', key: `${subject}|${s}` }));
}

/**
 * Deny entries in HAProxy maps through the Runtime API, without a reload. The desired contents are also written to
 * the map files (so a reload or restart keeps them) and to a JSON index (decision ids and expiry), and are pushed
 * again by `check()` when HAProxy lost them. Operations run one at a time.
 */
export class HaproxyDenyAdapter implements ActionAdapter {
  readonly type = 'gateways/haproxy';
  private chain: Promise<unknown> = Promise.resolve();
  private readonly indexFile: DenyIndexFile;

  constructor(
    private readonly config: HaproxyConfig,
    private readonly logger: Logger,
  ) {
    this.indexFile = new DenyIndexFile(config);
  }

  supports(decision: Decision): boolean {
    return isSubjectDeny(decision);
  }

  apply(decision: EnforcedDecision): Promise<AdapterResult> {
    return this.serial(() => counted(GATEWAY, 'apply', () => this.applyNow(decision)));
  }

  revert(decision: Decision): Promise<AdapterResult> {
    return this.serial(() => counted(GATEWAY, 'revert', () => this.revertNow(decision)));
  }

  /** Reachable, the three maps loaded, and their contents as desired (pushes the desired contents when not). */
  check(): Promise<{ ok: boolean; detail?: string }> {
    return this.serial(async () => {
      try {
        const detail = await counted(GATEWAY, 'resync', () => this.resync());
        return { ok: true, detail };
      } catch (err) {
        return { ok: false, detail: (err as Error).message };
      }
    });
  }

  /** Safety net behind the engine's own expiry: revert every decision whose `until` has passed; returns their ids. */
  sweepExpired(now: number = Date.now()): Promise<string[]> {
    return this.serial(async () => {
      const index = await this.indexFile.load();
      const ids = index.expired(now);
      for (const id of ids) await this.removeDecision(id, []);
      if (ids.length > 0) {
        await this.persist();
        this.logger.info({ gateway: GATEWAY, expired: ids.length }, 'swept expired deny entries');
      }
      return ids;
    });
  }

  async close(): Promise<void> {
    await this.chain.catch(() => {});
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => {});
    return next;
  }

  private mapPath(map: string): string {
    return join(this.config.map_dir, HAPROXY_MAP_FILES[map]);
  }

  private command(line: string): Promise<string> {
    return withRetry(() => runtimeCommand({ target: this.config.socket, timeoutMs: this.config.timeout_ms }, line), {
      retries: this.config.retries,
      baseMs: this.config.retry_base_ms,
    });
  }

  /** set the entry if HAProxy has it, add it otherwise: never a duplicate, whatever HAProxy held before */
  private async putEntry(entry: DenyEntry, id: string): Promise<void> {
    const file = this.mapPath(entry.map);
    const set = await this.command(`set map ${file} ${entry.key} ${id}`);
    if (isOk(set)) return;
    if (!isNotFound(set)) throw mwError('ADAPTER_FAILED', `haproxy set map ${entry.map}: ${set.trim()}`);
    const add = await this.command(`add map ${file} ${entry.key} ${id}`);
    if (!isOk(add)) throw mwError('ADAPTER_FAILED', `haproxy add map ${entry.map}: ${add.trim()}`);
    gatewayMetrics.entries.inc({ gateway: GATEWAY, change: 'added' });
  }

  private async deleteEntry(entry: DenyEntry): Promise<void> {
    const answer = await this.command(`del map ${this.mapPath(entry.map)} ${entry.key}`);
    if (isOk(answer)) gatewayMetrics.entries.inc({ gateway: GATEWAY, change: 'removed' });
    else if (!isNotFound(answer)) throw mwError('ADAPTER_FAILED', `haproxy del map ${entry.map}: ${answer.trim()}`);
  }

  private async applyNow(decision: EnforcedDecision): Promise<AdapterResult> {
    if (!this.supports(decision))
      throw mwError('BAD_REQUEST', `haproxy cannot enforce ${decision.type}/${decision.scope}`);
    const entries = haproxyEntries(denyTarget(decision));
    const ref = entries.map((e) => `${HAPROXY_MAP_FILES[e.map]}:${e.key}`).join(' ');
    if (decision.simulated) return { ok: true, detail: `simulated: would add ${ref}`, ref };
    const index = await this.indexFile.load();
    const known = index.has(decision.id);
    index.add(decision.id, decision.until, entries);
    try {
      // every entry, not only fresh ones: re-applying restores entries HAProxy lost
      for (const entry of entries) await this.putEntry(entry, decision.id);
    } catch (err) {
      if (!known) await this.removeDecision(decision.id, []).catch(() => {});
      throw err;
    }
    await this.persist();
    return {
      ok: true,
      detail: `denied ${decision.scope} in ${entries.length} haproxy map entr${entries.length === 1 ? 'y' : 'ies'}`,
      ref,
    };
  }

  private async revertNow(decision: Decision): Promise<AdapterResult> {
    const index = await this.indexFile.load();
    let fallback: DenyEntry[] = [];
    if (!index.has(decision.id)) {
      // an index lost or never written: remove what this decision would have added, unless another decision holds it
      try {
        fallback = haproxyEntries(denyTarget(decision)).filter((e) => !index.holds(e));
      } catch {
        return { ok: true, detail: 'nothing to revert' };
      }
    }
    if (decision.simulated) return { ok: true, detail: 'simulated: nothing to revert' };
    const removed = await this.removeDecision(decision.id, fallback);
    await this.persist();
    return { ok: true, detail: `removed ${removed} haproxy map entr${removed === 1 ? 'y' : 'ies'}` };
  }

  private async removeDecision(id: string, fallback: DenyEntry[]): Promise<number> {
    const index = await this.indexFile.load();
    const freed = [...index.remove(id), ...fallback];
    for (const entry of freed) await this.deleteEntry(entry);
    return freed.length;
  }

  /** write the map files (what a reload loads) and the index */
  private async persist(): Promise<void> {
    const index = await this.indexFile.load();
    for (const map of Object.keys(HAPROXY_MAP_FILES)) {
      const lines = index.entriesOf(map).map((e) => `${e.key} ${e.id}\n`);
      await atomicWrite(this.mapPath(map), `# managed by meshward: do not edit\n${lines.join('')}`);
    }
    await index.save(this.indexFile.path);
  }

  /** compare each map at HAProxy with the index; replace a differing map atomically (prepare / add @ver / commit) */
  private async resync(): Promise<string> {
    const index = await this.indexFile.load();
    const listed = await this.command('show map');
    const fixed: string[] = [];
    for (const map of Object.keys(HAPROXY_MAP_FILES)) {
      const file = this.mapPath(map);
      if (!listed.includes(`(${file})`)) {
        throw mwError(
          'CONFIG_INVALID',
          `haproxy has no map ${file}: include the meshward deny rules with this map_dir`,
        );
      }
      const want = index.entriesOf(map);
      const have = parseShowMap(await this.command(`show map ${file}`))
        .map((e) => `${e.key} ${e.value}`)
        .sort();
      const wanted = want.map((e) => `${e.key} ${e.id}`).sort();
      if (have.length === wanted.length && have.every((h, i) => h === wanted[i])) continue;
      await this.replaceMap(file, want);
      fixed.push(map);
    }
    if (fixed.length > 0) await this.persist();
    return fixed.length === 0
      ? `${index.size} decisions, maps in sync`
      : `${index.size} decisions, pushed ${fixed.join(', ')} map(s) again`;
  }

  private async replaceMap(file: string, want: { key: string; id: string }[]): Promise<void> {
    const prepared = await this.command(`prepare map ${file}`);
    const m = /New version created: (\d+)/.exec(prepared);
    if (!m) throw mwError('ADAPTER_FAILED', `haproxy prepare map: ${prepared.trim()}`);
    const ver = m[1];
    // one payload stays well under HAProxy's tune.bufsize (16 kB by default)
    for (let i = 0; i < want.length; ) {
      let payload = '';
      while (i < want.length && payload.length < 8000) {
        payload += `${want[i].key} ${want[i].id}\n`;
        i++;
      }
      const added = await this.command(`add map @${ver} ${file} <<\n${payload}\n`);
      if (!isOk(added)) throw mwError('ADAPTER_FAILED', `haproxy add map @${ver}: ${added.trim()}`);
    }
    const committed = await this.command(`commit map @${ver} ${file}`);
    if (!isOk(committed)) throw mwError('ADAPTER_FAILED', `haproxy commit map: ${committed.trim()}`);
    gatewayMetrics.entries.inc({ gateway: GATEWAY, change: 'resynced' }, want.length);
  }
}

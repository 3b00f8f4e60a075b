import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Decision, EnforcedDecision } from '../../../pipeline/core/decision.js';
import { mwError } from '../../../pipeline/core/errors.js';
import type { Logger } from '../../../pipeline/core/logger.js';
import type { ActionAdapter, AdapterResult } from '../../adapter.js';
import { atomicWrite, DenyIndexFile } from '../deny-index.js';
import { denyTarget, isSubjectDeny } from '../deny-keys.js';
import { counted, gatewayMetrics } from '../gateway-metrics.js';
import type { NginxConfig } from './config.js';
import { nginxEntries, renderMapFiles } from './deny-map-files.js';

const GATEWAY = 'nginx';

interface PendingChange {
  /** put the index back as it was before this change, when the batch fails */
  undo: () => void;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Deny entries in nginx map files (see deploy/nginx/meshward-deny.conf). Changes arriving within `debounce_ms`
 * share one write of the files (atomic: temp file + rename), one `nginx -t`, and one graceful `nginx -s reload`.
 * When `nginx -t` fails the previous files are put back and every change of the batch is rejected.
 * The reload is asynchronous in nginx: new connections see the new maps once the new workers run (milliseconds).
 */
export class NginxDenyAdapter implements ActionAdapter {
  readonly type = 'gateways/nginx';
  private pending: PendingChange[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly indexFile: DenyIndexFile;
  /** how many reloads were sent (tests and /metrics read it) */
  reloads = 0;

  constructor(
    private readonly config: NginxConfig,
    private readonly logger: Logger,
  ) {
    this.indexFile = new DenyIndexFile(config);
  }

  supports(decision: Decision): boolean {
    return isSubjectDeny(decision);
  }

  apply(decision: EnforcedDecision): Promise<AdapterResult> {
    return counted(GATEWAY, 'apply', async () => {
      if (!this.supports(decision)) {
        throw mwError('BAD_REQUEST', `nginx cannot enforce ${decision.type}/${decision.scope}`);
      }
      const entries = nginxEntries(denyTarget(decision));
      const ref = entries.map((e) => `${e.map}:${e.key}`).join(' ');
      if (decision.simulated) return { ok: true, detail: `simulated: would add ${ref}`, ref };
      const index = await this.indexFile.load();
      const known = index.has(decision.id);
      index.add(decision.id, decision.until, entries);
      await this.enqueue(() => {
        if (!known) index.remove(decision.id);
      });
      return { ok: true, detail: `denied ${decision.scope} in nginx maps (graceful reload)`, ref };
    });
  }

  revert(decision: Decision): Promise<AdapterResult> {
    return counted(GATEWAY, 'revert', async () => {
      if (decision.simulated) return { ok: true, detail: 'simulated: nothing to revert' };
      const index = await this.indexFile.load();
      const held = index.toJSON().decisions.find((d) => d.id === decision.id);
      if (!held) return { ok: true, detail: 'nothing to revert' };
      index.remove(decision.id);
      await this.enqueue(() => index.add(held.id, held.until, held.entries));
      return { ok: true, detail: 'removed from nginx maps (graceful reload)' };
    });
  }

  /** `nginx -t` passes and the map files hold what the index says (rewrites and reloads them when not) */
  async check(): Promise<{ ok: boolean; detail?: string }> {
    try {
      const index = await this.indexFile.load();
      const want = renderMapFiles(index);
      let stale = false;
      for (const [file, text] of Object.entries(want)) {
        const have = await readFile(join(this.config.map_dir, file), 'utf8').catch(() => '');
        if (have !== text) stale = true;
      }
      if (stale) await this.enqueue(() => {});
      else await this.nginx(['-t']);
      return { ok: true, detail: `${index.size} decisions, ${stale ? 'map files rewritten and reloaded' : 'in sync'}` };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  }

  /** revert every decision whose `until` has passed (one reload for all); returns their ids */
  async sweepExpired(now: number = Date.now()): Promise<string[]> {
    const index = await this.indexFile.load();
    const ids = index.expired(now);
    if (ids.length === 0) return ids;
    const held = index.toJSON().decisions.filter((d) => ids.includes(d.id));
    for (const id of ids) index.remove(id);
    await this.enqueue(() => {
      for (const d of held) index.add(d.id, d.until, d.entries);
    });
    return ids;
  }

  async close(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      await this.flush();
    }
    await this.flushing.catch(() => {});
  }

  private enqueue(undo: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ undo, resolve, reject });
      if (!this.timer) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          void this.flush();
        }, this.config.debounce_ms);
      }
    });
  }

  /** one batch at a time: write all files, test, reload; on failure restore the files and the index */
  private flush(): Promise<void> {
    const run = async (): Promise<void> => {
      const batch = this.pending;
      this.pending = [];
      if (batch.length === 0) return;
      const index = await this.indexFile.load();
      const previous: Record<string, string | null> = {};
      try {
        const files = renderMapFiles(index);
        for (const file of Object.keys(files)) {
          previous[file] = await readFile(join(this.config.map_dir, file), 'utf8').catch(() => null);
        }
        for (const [file, text] of Object.entries(files)) await atomicWrite(join(this.config.map_dir, file), text);
        await this.nginx(['-t']);
        await this.nginx(['-s', 'reload']);
        this.reloads++;
        gatewayMetrics.entries.inc({ gateway: GATEWAY, change: 'reloaded' });
        await index.save(this.indexFile.path);
        for (const p of batch) p.resolve();
      } catch (err) {
        for (const [file, text] of Object.entries(previous)) {
          if (text !== null) await atomicWrite(join(this.config.map_dir, file), text).catch(() => {});
        }
        for (const p of [...batch].reverse()) p.undo();
        this.logger.warn({ gateway: GATEWAY, err: (err as Error).message }, 'nginx deny maps rejected, rolled back');
        for (const p of batch) p.reject(err);
      }
    };
    this.flushing = this.flushing.then(run, run);
    return this.flushing;
  }

  private nginx(args: string[]): Promise<string> {
    const full = [...(this.config.prefix ? ['-p', this.config.prefix] : []), '-c', this.config.conf_file, ...args];
    return new Promise((resolve, reject) => {
      execFile(this.config.nginx_bin, full, { timeout: this.config.command_timeout_ms }, (err, stdout, stderr) => {
        if (!err) return resolve(`${stdout}${stderr}`);
        const text = `${stderr}`.trim().split('\n').slice(-3).join(' | ');
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' || err.killed) {
          return reject(mwError('ADAPTER_FAILED', `nginx ${args.join(' ')}: ${err.message}`, undefined, err));
        }
        if (args[0] === '-s') {
          return reject(mwError('ADAPTER_FAILED', `nginx ${args.join(' ')} failed: ${text}`, undefined, err));
        }
        // nginx -t rejected the files: retrying the same files cannot help
        reject(mwError('CONFIG_INVALID', `nginx ${args.join(' ')} failed: ${text}`, undefined, err));
      });
    });
  }
}

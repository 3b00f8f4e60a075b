import type { Decision } from '../../pipeline/core/decision.js';

export interface FollowOptions {
  /** bearer token for the analyst API */
  token?: string;
  onUpsert(decision: Decision): void;
  onRemove(id: string): void;
  /** after each (re)connection's startup snapshot */
  onSync?(): void;
  /** connection problems (the client reconnects by itself) */
  onError?(err: Error): void;
  /** reconnect when nothing (not even a heartbeat) arrives for this long, ms (default 45 s) */
  idleTimeoutMs?: number;
  /** first reconnect delay, ms (default 500), doubled up to maxBackoffMs (default 30 s), with jitter */
  backoffMs?: number;
  maxBackoffMs?: number;
}

export interface DecisionFollower {
  /** the decisions in force as last heard */
  readonly decisions: ReadonlyMap<string, Decision>;
  /** resolves at the first sync */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

type FeedMessage =
  | { type: 'upsert'; decision: Decision }
  | { type: 'remove'; id: string }
  | { type: 'sync' }
  | { type: 'heartbeat' };

/**
 * Follow the enforcement-point feed (`GET /v1/decisions/stream?startup=true`) and keep a local map of decisions in
 * force. Reconnects with jittered backoff; after each reconnection the startup snapshot is reconciled, so decisions
 * removed while disconnected are reported through `onRemove`. Decisions past `until` are dropped locally too.
 */
export function followDecisions(url: string, opts: FollowOptions): DecisionFollower {
  const decisions = new Map<string, Decision>();
  const target = new URL(url);
  target.searchParams.set('startup', 'true');
  const idleMs = opts.idleTimeoutMs ?? 45_000;
  const base = opts.backoffMs ?? 500;
  const maxBackoff = opts.maxBackoffMs ?? 30_000;
  let closed = false;
  let controller: AbortController | undefined;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });

  const remove = (id: string) => {
    if (decisions.delete(id)) opts.onRemove(id);
  };

  const expiry = setInterval(() => {
    const now = Date.now();
    // an active decision always has its end; one without is not in force
    for (const [id, d] of decisions) if ((d.until ?? 0) <= now) remove(id);
  }, 1000);
  expiry.unref();

  async function connectOnce(): Promise<boolean> {
    controller = new AbortController();
    let idle: NodeJS.Timeout | undefined;
    const ctl = controller;
    const touch = () => {
      if (idle) clearTimeout(idle);
      idle = setTimeout(() => ctl.abort(new Error('decision feed idle')), idleMs);
      idle.unref();
    };
    let synced = false;
    const seen = new Set<string>();
    try {
      touch();
      const res = await fetch(target, {
        headers: { accept: 'application/x-ndjson', ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) },
        signal: ctl.signal,
      });
      if (res.status !== 200 || !res.body) throw new Error(`decision feed answered HTTP ${res.status}`);
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        touch();
        buffer += decoder.decode(chunk, { stream: true });
        let nl = buffer.indexOf('\n');
        while (nl !== -1) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          nl = buffer.indexOf('\n');
          if (!line) continue;
          let msg: FeedMessage;
          try {
            msg = JSON.parse(line) as FeedMessage;
          } catch {
            opts.onError?.(new Error('decision feed sent a line that is not JSON'));
            continue;
          }
          if (msg.type === 'upsert') {
            if (!synced) seen.add(msg.decision.id);
            decisions.set(msg.decision.id, msg.decision);
            opts.onUpsert(msg.decision);
          } else if (msg.type === 'remove') remove(msg.id);
          else if (msg.type === 'sync') {
            synced = true;
            for (const id of [...decisions.keys()]) if (!seen.has(id)) remove(id);
            opts.onSync?.();
            markReady();
          }
        }
      }
      if (!closed) opts.onError?.(new Error('decision feed ended'));
    } catch (err) {
      if (!closed) opts.onError?.(err as Error);
    } finally {
      if (idle) clearTimeout(idle);
    }
    return synced;
  }

  let stopWait: () => void = () => {};
  const loop = (async () => {
    let attempt = 0;
    while (!closed) {
      const synced = await connectOnce();
      if (closed) break;
      attempt = synced ? 0 : attempt + 1;
      const delay = Math.random() * Math.min(maxBackoff, base * 2 ** attempt);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        stopWait = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  })();

  return {
    decisions,
    ready,
    async close() {
      closed = true;
      clearInterval(expiry);
      controller?.abort();
      stopWait();
      await loop;
    },
  };
}

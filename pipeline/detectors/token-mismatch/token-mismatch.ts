import type { ApiCallRecord } from '../../core/record.js';
import type { Detector, DetectorContext } from '../detector.js';
import { BoundedMap } from '../shared/bounded-map.js';
import { safeRestore } from '../shared/detector-kit.js';
import { appendTo, isMeshHop, pushEvidence } from '../shared/record-fields.js';
import { RouteShapes, valuesInPath } from '../shared/route-shapes.js';
import type { TokenMismatchConfig } from './config.js';

interface TokenWindow {
  start: number;
  ips: string[];
  subs: string[];
  ipAlerted: boolean;
  subAlerted: boolean;
  evidence: string[];
}

/**
 * One bearer token used by someone other than its owner: presented from more client addresses or with more user
 * ids than one owner would within a window, or used on an owner-addressed route (`/users/{id}`) for another id.
 */
export class TokenMismatchDetector implements Detector {
  readonly type = 'token_mismatch';
  private readonly tokens: BoundedMap<string, TokenWindow>;
  private readonly ownerRoutes: Set<string>;
  private readonly routes = new RouteShapes();
  private ownerMismatches = 0;

  constructor(private readonly config: TokenMismatchConfig) {
    this.tokens = new BoundedMap(config.max_tokens, config.window_ms * 2);
    this.ownerRoutes = new Set(config.owner_routes);
  }

  observe(r: ApiCallRecord, ctx: DetectorContext): void {
    const token = r.user?.tokenHash;
    if (!token) return;
    const sub = r.user?.sub;
    if (this.ownerRoutes.size > 0 && sub) {
      const endpoint = ctx.endpointOf(r);
      const shape = this.routes.of(endpoint);
      if (this.ownerRoutes.has(shape.route)) {
        const owner = valuesInPath(shape, r.path)[0];
        if (owner !== undefined && owner !== sub) {
          this.ownerMismatches++;
          ctx.emit({
            kind: 'token_mismatch',
            severity: 'high',
            service: r.service,
            endpoint,
            subject: { type: 'token', value: token },
            at: r.ts,
            summary: `token of user ${sub} used on ${endpoint} for user ${owner}`,
            expected: `the id in ${shape.route} equals the token's subject (${sub})`,
            observed: `id ${owner}, status ${r.status}`,
            recordIds: [r.id],
            metrics: { status: r.status },
            labels: { rule: 'owner_route', token_sub: sub, path_id: owner },
          });
        }
      }
    }
    if (this.config.edge_only && isMeshHop(r)) return;
    let w = this.tokens.get(token, r.ts);
    if (!w || r.ts - w.start > this.config.window_ms) {
      w = { start: r.ts, ips: [], subs: [], ipAlerted: false, subAlerted: false, evidence: [] };
      this.tokens.set(token, w, r.ts);
    }
    let changed = false;
    const ip = r.source.ip;
    if (ip && w.ips.length <= this.config.max_ips_per_token && !w.ips.includes(ip)) {
      w.ips = appendTo(w.ips, ip);
      changed = true;
    }
    if (sub && w.subs.length <= this.config.max_subs_per_token && !w.subs.includes(sub)) {
      w.subs = appendTo(w.subs, sub);
      changed = true;
    }
    if (!changed) return;
    w.evidence = pushEvidence(w.evidence, r.id);
    if (!w.ipAlerted && w.ips.length > this.config.max_ips_per_token) {
      w.ipAlerted = true;
      this.emitSharing(ctx, r, token, w, 'ips');
    }
    if (!w.subAlerted && w.subs.length > this.config.max_subs_per_token) {
      w.subAlerted = true;
      this.emitSharing(ctx, r, token, w, 'subs');
    }
  }

  private emitSharing(
    ctx: DetectorContext,
    r: ApiCallRecord,
    token: string,
    w: TokenWindow,
    what: 'ips' | 'subs',
  ): void {
    const minutes = Math.round(this.config.window_ms / 60_000);
    const byIps = what === 'ips';
    ctx.emit({
      kind: 'token_mismatch',
      severity: 'high',
      service: r.service,
      subject: { type: 'token', value: token },
      at: r.ts,
      summary: byIps
        ? `one token used from ${w.ips.length}+ client addresses within ${minutes} min`
        : `one token presented for ${w.subs.length} different users within ${minutes} min`,
      expected: byIps
        ? `at most ${this.config.max_ips_per_token} addresses per token per window`
        : `at most ${this.config.max_subs_per_token} user id(s) per token`,
      observed: byIps ? `addresses ${w.ips.join(', ')}` : `users ${w.subs.join(', ')}`,
      recordIds: [...w.evidence],
      metrics: { distinct_ips: w.ips.length, distinct_users: w.subs.length },
      labels: { rule: byIps ? 'many_ips' : 'many_users' },
    });
  }

  snapshot(): unknown {
    return { v: 1, tokens: this.tokens.dump((w) => w), ownerMismatches: this.ownerMismatches };
  }

  restore(state: unknown): void {
    safeRestore(
      this.type,
      state,
      (s) => {
        this.tokens.load(s.tokens as [string, TokenWindow, number][], (w) => w);
        this.ownerMismatches = Number(s.ownerMismatches) || 0;
      },
      () => {
        this.tokens.clear();
        this.ownerMismatches = 0;
      },
    );
  }

  stats(): Record<string, number> {
    return { tokens: this.tokens.size, tokens_evicted: this.tokens.evicted, owner_mismatches: this.ownerMismatches };
  }
}

import { TOKEN_GROUPS, type TokenGroup } from './config.js';
import { EMPTY_TOKEN, type FeatureVector, hash32, type TokenDoc, valueAt } from './features.js';
import type { PeerEvidence } from './peer-mix.js';

/** tokens an explanation names at most */
export const MAX_BECAUSE = 5;
/** a token in more than this share of the training APIs (of its group) names nothing in particular: not named */
export const COMMON_SHARE = 0.5;

/** callers an explanation names at most */
const MAX_CALLERS_NAMED = 3;

/**
 * `callers orders-ui, checkout` (the heaviest first) before the other reasons of each class of the callers' mix, in
 * place (peer_prior)
 */
export function addCallersReason(because: Map<string, string[]>, callers: PeerEvidence): void {
  prependReason(because, callers.mix.keys(), `callers ${callers.peers.slice(0, MAX_CALLERS_NAMED).join(', ')}`);
}

/** `its words name it` first among the reasons of each class the API's words name, in place (label_name_prior) */
export function addNamedReason(because: Map<string, string[]>, named: readonly string[]): void {
  prependReason(because, named, 'its words name it');
}

/** `reason` first among the reasons of each of `classes`, at most MAX_BECAUSE kept */
function prependReason(because: Map<string, string[]>, classes: Iterable<string>, reason: string): void {
  for (const c of classes) because.set(c, [reason, ...(because.get(c) ?? [])].slice(0, MAX_BECAUSE));
}

/** how an explanation names a token's group */
const GROUP_WORD: Record<TokenGroup, string> = {
  name: 'name',
  host: 'host',
  path: 'path',
  params: 'param',
  tags: 'tag',
  text: 'text',
  words: 'word',
};

/**
 * Why an API's neighbours of one class are near it: the query's tokens those neighbours share, each scored by how
 * much it brings them closer (the group's per-feature weight x the query's value x the neighbours' summed value of
 * its bucket; the distance falls by twice that), best first, at most MAX_BECAUSE, each once, as `<group> <token>`
 * (`word refund`, `host stripe.com`, `param amount`). Hashed buckets may collide, so a token is named only when its
 * bucket agrees in sign with the neighbours'. A token most training APIs have (`cluster` of `*.svc.cluster.local`,
 * `dfRatio` above COMMON_SHARE) brings every API as close and is left out. Only the hashed token groups are read (not
 * the word-vector block).
 */
export function sharedTokens(
  doc: TokenDoc,
  query: FeatureVector,
  neighbours: readonly FeatureVector[],
  weights: Float64Array,
  dims: number,
  dfRatio: (group: number, bucket: number) => number,
  /** host tokens already said otherwise (the known provider's name and labels) */
  skipHost: ReadonlySet<string> = new Set(),
): string[] {
  const best = new Map<string, { score: number; group: TokenGroup }>();
  TOKEN_GROUPS.forEach((g, gi) => {
    const w = weights[gi];
    const q = query[gi];
    if (w === 0 || q.idx.length === 0) return;
    for (const t of new Set(doc[g])) {
      if (t === EMPTY_TOKEN) continue;
      const b = hash32(t) % dims;
      const qv = valueAt(q, b);
      if (qv === 0 || dfRatio(gi, b) > COMMON_SHARE) continue;
      let x = 0;
      for (const n of neighbours) x += valueAt(n[gi], b);
      const score = w * qv * x;
      if (score <= 0) continue;
      const shown = t.startsWith('@') ? t.slice(1) : t;
      if (g === 'host' && skipHost.has(shown)) continue;
      const seen = best.get(shown);
      if (!seen || seen.score < score) best.set(shown, { score, group: g });
    }
  });
  return [...best]
    .sort((a, b) => b[1].score - a[1].score || (a[0] < b[0] ? -1 : 1))
    .slice(0, MAX_BECAUSE)
    .map(([t, { group }]) => `${GROUP_WORD[group]} ${t}`);
}

import { LRUCache } from 'lru-cache';
import { keyedStringLists } from './checkpoint-lists.js';
import { TEMPLATED } from './path-template.js';

export const LEARNED_PLACEHOLDER = '{param}';
/** the method in prefix keys when the learner counts across methods */
const ANY_METHOD = '*';

export interface RouteLearnerOptions {
  /**
   * distinct literal values at one position (same service and prefix, and method unless acrossMethods) before it
   * becomes `{param}`
   */
  maxDistinct: number;
  /**
   * a position also becomes `{param}` as soon as it has this many distinct values and nearly every call there
   * brought a new one (at least NOVEL_SHARE of them): parameter values keep coming, a static set of siblings repeats.
   * 0 = off
   */
  minNovel: number;
  /**
   * a position also becomes `{param}` once it has estimateMinValues distinct values and the number of distinct values
   * it is estimated to have (Chao1, from the values seen once and twice) reaches this, while at least
   * ESTIMATE_ONCE_SHARE of its calls are of values seen once: a parameter whose values repeat (popular users) still
   * shows many values seen once, a static set of siblings soon shows none. 0 = off
   */
  estimatedDistinct: number;
  /** distinct values a position needs before its estimate counts (estimatedDistinct) */
  estimateMinValues: number;
  /**
   * one count of values per service and prefix for all methods (`GET /users/alice`, `DELETE /users/bob` and
   * `PUT /users/carol` are three values of one position), and its folds apply to every method; false: per method
   */
  acrossMethods: boolean;
  /** first path position that may be folded (1 = the first segment; 2 keeps top-level resources literal) */
  minPosition: number;
  /** prefixes tracked at most (LRU); each keeps at most maxDistinct + 1 values */
  maxPrefixes: number;
  /**
   * a folded position keeps literal the action names among its values (isActionName: `addThingToThingGroup` beside
   * `/thing-groups/{thingGroupName}`, `$count` and `microsoft.graph.delta()` beside `/instances/{id}`) when they are
   * at most this share of its distinct values (those first called after the fold while they are fewer than that
   * share): a parameter's values are slugs, numbers and keys, rarely compounds of capitalised words or calls, so a
   * few such names are the position's static siblings. Where more of its values look so they are the parameter's
   * (function names) and fold with it. 0 = off
   */
  keptShare: number;
  /**
   * the values after a literal segment (a word) that precedes two or more positions of a service are counted under
   * the word too (`secrets` of `/orgs/{org}/actions/secrets/…` and `/repos/{owner}/{repo}/actions/secrets/…`; its
   * count starts as its first position's), and when they are many (the rules above) every position after the word
   * folds: an endpoint called a few times learns from its siblings. false: each position alone
   */
  sharedWords: boolean;
}

export const defaultRouteLearnerOptions: RouteLearnerOptions = {
  maxDistinct: 200,
  minNovel: 24,
  estimatedDistinct: 300,
  estimateMinValues: 64,
  acrossMethods: true,
  minPosition: 2,
  maxPrefixes: 10_000,
  keptShare: 0.1,
  sharedWords: true,
};

/** share of the calls at a position that must have brought a new value for the minNovel fold */
export const NOVEL_SHARE = 0.95;

/**
 * share of the calls at a position whose value is still seen only once (the Good-Turing chance that the next call
 * brings a new value) below which the estimate does not fold it: where static siblings take most calls and a
 * parameter beside them a few (`/images/search`, `/images/json` beside `/images/{name}`), folding would merge them
 */
export const ESTIMATE_ONCE_SHARE = 0.2;

/**
 * a name of the API's own rather than a value: a camelCase action (letters only, at least six, a capital after the
 * first letter: `listObjects`), an OData system segment (`$count`, `$value`), a function call
 * (`microsoft.graph.delta()`), a custom method (`people:batchGet`)
 */
export function isActionName(value: string): boolean {
  if (value.length >= 6 && /^[A-Za-z]+$/.test(value)) return /[a-z]/.test(value) && /.[A-Z]/.test(value);
  return /^\$[A-Za-z]+$/.test(value) || /^[A-Za-z][\w.]*\(.*\)$/.test(value) || /^[a-z]+:[a-z][A-Za-z]+$/.test(value);
}

/**
 * a folded position: the action names it keeps literal, and how many it may keep (keptShare of the distinct values
 * it had when it folded; names first called later are kept while there is room)
 */
interface Fold {
  kept: Set<string>;
  room: number;
}
/** a fold that keeps nothing, shared by all such */
const KEEPS_NONE: Fold = { kept: new Set(), room: 0 };

/** the fold of a position folding now: its action names stay literal where they are few (keptShare) */
function foldOf(values: Iterable<string>, distinct: number, keptShare: number): Fold {
  const names = [...values].filter(isActionName);
  const room = Math.floor(keptShare * distinct);
  return room === 0 || names.length > room ? KEEPS_NONE : { kept: new Set(names), room };
}

/** the context of a word that has preceded two or more positions (no prefix key is empty) */
const SHARED = '';

/** remembered walks at most (a memo: past it, it starts again empty) */
const MAX_WALKS = 4096;

/** the learned template of one observed template; `endpointKey` is the inventory's cache of its entry key */
export interface LearnedRoute {
  template: string;
  /** the prefix key whose next position has just become a parameter (callers merge old entries) */
  newlyFolded?: string;
  endpointKey?: string;
}

/** the literals counted at one prefix with the calls of each, all calls, and the values called once and twice */
interface Counted {
  values: Map<string, number>;
  calls: number;
  once: number;
  twice: number;
}

/**
 * Chao1 (bias-corrected): the distinct values a position is estimated to have, from those seen (`seen`), seen once
 * and seen twice
 */
export function chao1(seen: number, once: number, twice: number): number {
  return seen + (once * (once - 1)) / (2 * (twice + 1));
}

/** one learnable position of a template as the last full walk saw it */
interface Step {
  /** index of the position in the template split on `/` */
  index: number;
  /** prefix key (`service method /a/b`) of the position */
  key: string;
  /** the literal counted at the position, or null when the position was folded */
  part: string | null;
  /** the literal is a sibling its folded position keeps (not counted) */
  kept?: true;
  /** the key of the position's word (its values counted under it too), when the segment before it is a literal */
  word?: string;
}

/** a full walk of one (service, method, template), replayable while no fold has been added or dropped */
interface Walk {
  generation: number;
  steps: Step[];
  result: LearnedRoute;
}

/**
 * Learns, per service (and method unless acrossMethods), path positions whose literal-looking values are many
 * (usernames, slugs: `/users/alice`, `/users/bob`, ...) and folds them into `{param}`; with sharedWords the values
 * after a word that precedes several positions are counted and folded together too (under the word's key, `~word`).
 * Memory is bounded: at most maxPrefixes prefixes and words of at most maxDistinct + 1 values each, and maxPrefixes
 * words' first positions; a folded prefix or word keeps only the few action names it keeps literal (keptShare).
 *
 * Templates repeat, so each (service, method, template) keeps the walk it last took: its prefix keys (built and
 * hashed once) and its answer. While the set of folds is unchanged (`generation`), learning replays the walk — the
 * same cache reads and value counts, in the same order, without splitting the template or building prefix strings.
 */
export class RouteLearner {
  readonly options: RouteLearnerOptions;
  private readonly values: LRUCache<string, Counted>;
  private readonly folded: LRUCache<string, Fold>;
  /** by word key, the first prefix it preceded, or SHARED once it has preceded another (sharedWords) */
  private readonly contexts: LRUCache<string, string>;
  /**
   * bumped whenever folds are added (count, restore): replayed walks are valid only within one generation. Folds are
   * dropped only by the cap when one is added, so that is covered too.
   */
  private generation = 0;
  /** walks by template, then service, then method (strings the record already holds: no key to build) */
  private walks = new Map<string, Map<string, Map<string, Walk>>>();
  private walkCount = 0;

  constructor(options: Partial<RouteLearnerOptions> = {}) {
    this.options = { ...defaultRouteLearnerOptions, ...options };
    this.values = new LRUCache({ max: this.options.maxPrefixes });
    this.folded = new LRUCache({ max: this.options.maxPrefixes });
    this.contexts = new LRUCache({ max: this.options.maxPrefixes });
  }

  /**
   * observe a (placeholder-templated) path and return it with learned folds applied; `newlyFolded` names the prefix
   * key (`service method /a/b`) whose next position has just become a parameter, so callers can merge old entries.
   * The answer may be shared between calls: do not change `template` or `newlyFolded`; `endpointKey` is a slot the
   * caller may fill as its own cache (walks are keyed by template, service and method, which fix the route)
   */
  learn(service: string, method: string, template: string): LearnedRoute {
    // walks stay per method (their answer carries the caller's endpoint key), the counts behind them may not
    const walk = this.walks.get(template)?.get(service)?.get(method);
    if (walk !== undefined && walk.generation === this.generation) return this.replay(walk, service, method, template);
    return this.walk(service, method, template);
  }

  private replay(walk: Walk, service: string, method: string, template: string): LearnedRoute {
    const steps = walk.steps;
    for (let s = 0; s < steps.length; s++) {
      const step = steps[s];
      if (step.part === null || step.kept) {
        // a hit, as in the full walk (it refreshes the fold's recency); `key` is the fold's, the position's or its word's
        this.folded.get(step.key);
        continue;
      }
      // the full walk's fold checks here are misses (no fold was added since): they have no effect, so are skipped
      const foldKey = this.countStep(step.key, step.word, step.part);
      if (foldKey !== undefined) {
        // a new fold: finish as the full walk does, from this position on
        const parts = template.split('/');
        const before = walk.result.template.split('/');
        for (let i = 1; i < step.index; i++) parts[i] = before[i];
        parts[step.index] = this.keeps(foldKey, step.part) ? step.part : LEARNED_PLACEHOLDER;
        const root = this.prefixOf(service, method);
        return this.continueWalk(parts, root, step.index + 1, `${step.key}/${parts[step.index]}`, foldKey, null);
      }
    }
    return walk.result;
  }

  /** the full walk; remembered for replay when it added no fold */
  private walk(service: string, method: string, template: string): LearnedRoute {
    const steps: Step[] = [];
    const root = this.prefixOf(service, method);
    const result = this.continueWalk(template.split('/'), root, 1, root, undefined, steps);
    if (result.newlyFolded === undefined)
      this.remember(service, method, template, { generation: this.generation, steps, result });
    return result;
  }

  /** the learning loop from position `from`, with the prefix key of that position */
  private continueWalk(
    parts: string[],
    root: string,
    from: number,
    prefixAtFrom: string,
    newlyFoldedBefore: string | undefined,
    steps: Step[] | null,
  ): LearnedRoute {
    let newlyFolded = newlyFoldedBefore;
    let prefix = prefixAtFrom;
    for (let i = from; i < parts.length; i++) {
      const key = prefix;
      const part = parts[i];
      if (i >= this.options.minPosition && part !== '' && part !== LEARNED_PLACEHOLDER) {
        // the position's own fold, else its word's (the word is looked up only where the position has none)
        let foldKey = key;
        let fold = this.folded.get(key);
        const word = fold ? undefined : this.wordOf(root, parts[i - 1]);
        if (word !== undefined) {
          foldKey = word;
          fold = this.folded.get(word);
        }
        if (fold && this.keeps(foldKey, part, fold)) steps?.push({ index: i, key: foldKey, part, kept: true });
        else if (fold) {
          // a folded position: literals and typed placeholders ({id}, {uuid}, …) alike are the one parameter
          parts[i] = LEARNED_PLACEHOLDER;
          steps?.push({ index: i, key: foldKey, part: null });
        } else if (!TEMPLATED.test(part)) {
          steps?.push(word === undefined ? { index: i, key, part } : { index: i, key, part, word });
          const folded = this.countStep(key, word, part);
          if (folded !== undefined) {
            if (!this.keeps(folded, part)) parts[i] = LEARNED_PLACEHOLDER;
            newlyFolded ??= folded;
          }
        }
      }
      prefix = `${prefix}/${parts[i]}`;
    }
    return newlyFolded === undefined ? { template: parts.join('/') } : { template: parts.join('/'), newlyFolded };
  }

  /** count a literal at its position and under its word; the key (position's or word's) that has just folded, if any */
  private countStep(key: string, word: string | undefined, part: string): string | undefined {
    const byPosition = this.count(key, part);
    const byWord = word !== undefined && this.countWord(word, key, part);
    return byPosition ? key : byWord ? word : undefined;
  }

  /**
   * count a literal under the word before it, once the word has preceded two positions (its values so far start as
   * the first position's still counted); true when the word has just been folded
   */
  private countWord(word: string, key: string, part: string): boolean {
    const first = this.contexts.get(word);
    if (first === undefined) {
      this.contexts.set(word, key);
      return false;
    }
    if (first === key) return false;
    if (first !== SHARED) {
      this.contexts.set(word, SHARED);
      const counted = this.values.peek(first);
      if (counted) this.values.set(word, { ...counted, values: new Map(counted.values) });
    }
    return this.count(word, part);
  }

  /** count a literal at a prefix; true when the prefix has just been folded */
  private count(key: string, part: string): boolean {
    let counted = this.values.get(key);
    if (!counted) {
      counted = { values: new Map(), calls: 0, once: 0, twice: 0 };
      this.values.set(key, counted);
    }
    const n = (counted.values.get(part) ?? 0) + 1;
    counted.values.set(part, n);
    counted.calls++;
    if (n === 1) counted.once++;
    else if (n === 2) {
      counted.once--;
      counted.twice++;
    } else if (n === 3) counted.twice--;
    if (!this.folds(counted)) return false;
    this.values.delete(key);
    this.folded.set(key, foldOf(counted.values.keys(), counted.values.size, this.options.keptShare));
    this.generation++;
    return true;
  }

  /**
   * whether a folded position keeps a literal: one it kept, or an action name first met now while it has room. No
   * remembered walk is stale then: one through this position with this literal would have asked before, and a
   * refusal is for good (the room only fills)
   */
  private keeps(key: string, part: string, fold = this.folded.get(key)): boolean {
    if (!fold) return false;
    if (fold.kept.has(part)) return true;
    if (fold.kept.size >= fold.room || !isActionName(part)) return false;
    fold.kept.add(part);
    return true;
  }

  private folds({ values, calls, once, twice }: Counted): boolean {
    const { maxDistinct, minNovel, estimatedDistinct, estimateMinValues } = this.options;
    const seen = values.size;
    if (seen > maxDistinct) return true;
    if (minNovel > 0 && seen >= minNovel && seen >= NOVEL_SHARE * calls) return true;
    if (estimatedDistinct === 0 || seen < estimateMinValues || once < ESTIMATE_ONCE_SHARE * calls) return false;
    return chao1(seen, once, twice) >= estimatedDistinct;
  }

  private remember(service: string, method: string, template: string, walk: Walk): void {
    if (this.walkCount >= MAX_WALKS) {
      this.walks = new Map();
      this.walkCount = 0;
    }
    let byService = this.walks.get(template);
    if (!byService) {
      byService = new Map();
      this.walks.set(template, byService);
    }
    let byMethod = byService.get(service);
    if (!byMethod) {
      byMethod = new Map();
      byService.set(service, byMethod);
    }
    if (!byMethod.has(method)) this.walkCount++;
    byMethod.set(method, walk);
  }

  /**
   * the key under which the values after a literal segment are counted in every position it precedes (`secrets` of
   * `/orgs/{param}/actions/secrets/…` and `/repos/{param}/{param}/actions/secrets/…`); none after a placeholder
   */
  private wordOf(root: string, before: string): string | undefined {
    if (!this.options.sharedWords || before === '' || before === LEARNED_PLACEHOLDER || TEMPLATED.test(before))
      return undefined;
    return `${root}~${before}`;
  }

  /** apply learned folds without learning */
  apply(service: string, method: string, template: string): string {
    const parts = template.split('/');
    let prefix = this.prefixOf(service, method);
    const root = prefix;
    for (let i = 1; i < parts.length; i++) {
      if (i >= this.options.minPosition && parts[i] !== '') {
        const word = this.folded.has(prefix) ? undefined : this.wordOf(root, parts[i - 1]);
        const fold = this.folded.get(word ?? prefix);
        if (fold && !fold.kept.has(parts[i])) parts[i] = LEARNED_PLACEHOLDER;
      }
      prefix = `${prefix}/${parts[i]}`;
    }
    return parts.join('/');
  }

  /** the key of a template's root: service and method (ANY_METHOD when counting across methods) */
  private prefixOf(service: string, method: string): string {
    return `${service} ${this.options.acrossMethods ? ANY_METHOD : method} `;
  }

  stats(): { prefixes: number; folded: number } {
    return { prefixes: this.values.size, folded: this.folded.size };
  }

  /**
   * the folds and the values counted towards folds (with all calls and the calls of each), least recently used
   * first: restore() rebuilds the same state and recency, so a learner restored from a checkpoint folds at the same
   * record as one that never stopped (endpoint ids, and so alerts, equal an offline replay's). At most maxPrefixes ×
   * (maxDistinct + 1) values. A fold with room for action names is `[key, kept, room]`, one without its key; each
   * word with the first position it preceded ('' once it has preceded another)
   */
  snapshot(): {
    folded: (string | [string, string[], number])[];
    values: [string, string[], number, number[]][];
    words: [string, string][];
  } {
    return {
      words: [...this.contexts.rentries()] as [string, string][],
      folded: [...this.folded.rentries()].map(([k, f]) => {
        const { kept, room } = f as Fold;
        return room === 0 ? (k as string) : [k as string, [...kept], room];
      }),
      values: [...this.values.rentries()].map(([k, c]) => {
        const { values, calls } = c as Counted;
        return [k as string, [...values.keys()], calls, [...values.values()]];
      }),
    };
  }

  /** the state of a snapshot, replacing this learner's; malformed parts are skipped */
  restore(state: unknown): void {
    const s = state as { folded?: unknown; values?: unknown; words?: unknown } | null;
    this.folded.clear();
    this.values.clear();
    this.contexts.clear();
    this.walks = new Map();
    this.walkCount = 0;
    this.generation++;
    if (Array.isArray(s?.folded))
      for (const f of s.folded) {
        if (typeof f === 'string') this.folded.set(f, KEEPS_NONE);
        else if (Array.isArray(f) && typeof f[0] === 'string' && Array.isArray(f[1])) {
          const kept = new Set(f[1].filter((v: unknown): v is string => typeof v === 'string'));
          const room = Number.isSafeInteger(f[2]) && f[2] >= kept.size ? (f[2] as number) : kept.size;
          this.folded.set(f[0], room === 0 ? KEEPS_NONE : { kept, room });
        }
      }
    // a checkpoint from before shared words has none: each word starts again from its next position
    if (Array.isArray(s?.words))
      for (const w of s.words)
        if (Array.isArray(w) && typeof w[0] === 'string' && typeof w[1] === 'string') this.contexts.set(w[0], w[1]);
    for (const { key, values, item } of keyedStringLists(s?.values)) {
      if (values.length > this.options.maxDistinct) continue;
      // a checkpoint of an older version has no call count: as many calls as values
      const n = item[2];
      const calls = typeof n === 'number' && Number.isSafeInteger(n) && n >= values.length ? n : values.length;
      this.values.set(key, restoredCounts(values, calls, item[3]));
    }
  }
}

/**
 * the counts of a checkpointed prefix; a checkpoint without the calls of each value (older versions) gives one call
 * each when the calls equal the values, else two (none counts as seen once: the estimate waits for new values)
 */
function restoredCounts(values: string[], calls: number, counts: unknown): Counted {
  const valid =
    Array.isArray(counts) &&
    counts.length === values.length &&
    counts.every((n) => Number.isSafeInteger(n) && (n as number) >= 1);
  const each = calls === values.length ? 1 : 2;
  const out: Counted = { values: new Map(), calls, once: 0, twice: 0 };
  values.forEach((v, i) => {
    const n = valid ? (counts[i] as number) : each;
    out.values.set(v, n);
    if (n === 1) out.once++;
    else if (n === 2) out.twice++;
  });
  return out;
}

import { LRUCache } from 'lru-cache';

export const LEARNED_PLACEHOLDER = '{param}';
const PLACEHOLDER = /^(\{[^}]*\}|:[A-Za-z_]\w*|<[^>]+>)$/;

export interface RouteLearnerOptions {
  /** distinct literal values at one position (same service, method and prefix) before it becomes `{param}` */
  maxDistinct: number;
  /** first path position that may be folded (1 = the first segment; 2 keeps top-level resources literal) */
  minPosition: number;
  /** prefixes tracked at most (LRU); each keeps at most maxDistinct + 1 values */
  maxPrefixes: number;
}

export const defaultRouteLearnerOptions: RouteLearnerOptions = { maxDistinct: 50, minPosition: 2, maxPrefixes: 10_000 };

/**
 * Learns, per service and method, path positions whose literal-looking values are many (usernames, slugs:
 * `/users/alice`, `/users/bob`, ...) and folds them into `{param}`. Memory is bounded: at most maxPrefixes prefixes
 * of at most maxDistinct + 1 values each; a folded prefix keeps only its flag.
 */
export class RouteLearner {
  readonly options: RouteLearnerOptions;
  private readonly values: LRUCache<string, Set<string>>;
  private readonly folded: LRUCache<string, true>;

  constructor(options: Partial<RouteLearnerOptions> = {}) {
    this.options = { ...defaultRouteLearnerOptions, ...options };
    this.values = new LRUCache({ max: this.options.maxPrefixes });
    this.folded = new LRUCache({ max: this.options.maxPrefixes });
  }

  /**
   * observe a (placeholder-templated) path and return it with learned folds applied; `newlyFolded` names the prefix
   * key (`service method /a/b`) whose next position has just become a parameter, so callers can merge old entries.
   */
  learn(service: string, method: string, template: string): { template: string; newlyFolded?: string } {
    const parts = template.split('/');
    let newlyFolded: string | undefined;
    let prefix = `${service} ${method} `;
    for (let i = 1; i < parts.length; i++) {
      const key = prefix;
      if (i >= this.options.minPosition && !PLACEHOLDER.test(parts[i]) && parts[i] !== '') {
        if (this.folded.get(key)) {
          parts[i] = LEARNED_PLACEHOLDER;
        } else {
          let set = this.values.get(key);
          if (!set) {
            set = new Set();
            this.values.set(key, set);
          }
          set.add(parts[i]);
          if (set.size > this.options.maxDistinct) {
            this.values.delete(key);
            this.folded.set(key, true);
            parts[i] = LEARNED_PLACEHOLDER;
            newlyFolded ??= key;
          }
        }
      }
      prefix = `${prefix}/${parts[i]}`;
    }
    return newlyFolded === undefined ? { template: parts.join('/') } : { template: parts.join('/'), newlyFolded };
  }

  /** apply learned folds without learning */
  apply(service: string, method: string, template: string): string {
    const parts = template.split('/');
    let prefix = `${service} ${method} `;
    for (let i = 1; i < parts.length; i++) {
      if (i >= this.options.minPosition && !PLACEHOLDER.test(parts[i]) && this.folded.get(prefix))
        parts[i] = LEARNED_PLACEHOLDER;
      prefix = `${prefix}/${parts[i]}`;
    }
    return parts.join('/');
  }

  stats(): { prefixes: number; folded: number } {
    return { prefixes: this.values.size, folded: this.folded.size };
  }

  snapshot(): { folded: string[] } {
    return { folded: [...this.folded.keys()] };
  }

  restore(state: unknown): void {
    const folded = (state as { folded?: unknown })?.folded;
    if (!Array.isArray(folded)) return;
    for (const k of folded) if (typeof k === 'string') this.folded.set(k, true);
  }
}

import { LRUCache } from 'lru-cache';
import { ClearingMemo } from '../core/clearing-memo.js';
import { keyedStringLists } from './checkpoint-lists.js';
import { pathOnly } from './path-template.js';

/** placeholders whose value may be an API version: `/rest/api/3/`, `/2017-01-11/`, `/1.0/` */
const PINNABLE = new Set(['{id}', '{date}', '{num}']);
/** a segment after which a number is a version (`/api/3/`, `/v/4/`) */
const VERSION_PARENT = /^(api|apis|rest|v|ver|version|versions)$/i;
/** an integer placeholder is pinned only for a short number, never a long id */
const SHORT_INTEGER = /^\d{1,2}$/;
/** a point release (`1.0`, `2.1`, `10.2`; never `9.99`, a price): pinned wherever it sits (`/api.xro/2.0/`, `/ws/1.1/`, `/company/1.0/`) */
const POINT_RELEASE = /^\d{1,2}\.\d$/;
/** versions kept apart at one position; one more value and it is a parameter */
export const MAX_VERSIONS = 3;

/** a position that has just become a parameter: entries with one of `values` at `index` move to the placeholder */
export interface Unpinned {
  index: number;
  values: readonly string[];
}

/**
 * a template's placeholders that may hold a version: those in a version position (the first segment, or after `api`,
 * `v`, `rest`, …), and every decimal (`{num}`), which is pinned elsewhere only for a point release
 */
function versionPositions(template: string): { index: number; anywhere: boolean }[] {
  const at: { index: number; anywhere: boolean }[] = [];
  if (template.indexOf('{') === -1) return at;
  const parts = template.split('/');
  for (let i = 1; i < parts.length; i++) {
    if (!PINNABLE.has(parts[i])) continue;
    if (i === 1 || VERSION_PARENT.test(parts[i - 1])) at.push({ index: i, anywhere: false });
    else if (parts[i] === '{num}') at.push({ index: i, anywhere: true });
  }
  return at;
}

/** whether a value may be pinned at a placeholder: a short integer (never a long id), a date, a decimal; elsewhere
 * than in a version position, a point release only */
function pinnable(placeholder: string, value: string, anywhere: boolean): boolean {
  if (anywhere) return POINT_RELEASE.test(value);
  return placeholder !== '{id}' || SHORT_INTEGER.test(value);
}

/**
 * Keeps version-like values literal while their position (per service, method and the template before it) has seen
 * at most MAX_VERSIONS of them: dated and numbered API versions (`/2017-01-11/functions`, `/rest/api/3/issue`,
 * `/1.0/users`) are part of the route, and two versions are two APIs (a deprecated one still called is a zombie).
 * In a version position (the first segment, or after `api`, `apis`, `rest`, `v`, `version`) integers of at most two
 * digits, dates and decimals; elsewhere point releases (`/ws/1.1/`) only (nothing secret becomes an endpoint name;
 * a position whose first value is another decimal, a price say, is a parameter from the start); one more value turns the
 * position into its placeholder for good, and the routes of its first values are merged into it. A long id there is
 * a parameter from the start. Memory: at most `max` positions (LRU) of at most MAX_VERSIONS short values.
 */
export class PinnedValues {
  /** the values pinned at a position, or an empty list once it is a parameter */
  private readonly states: LRUCache<string, string[]>;
  private readonly positions = new ClearingMemo(versionPositions);

  constructor(max = 10_000) {
    this.states = new LRUCache({ max });
  }

  /**
   * the template with its pinned values put back (learning from the call when `learn`); `unpinned` lists the
   * positions of pinned values this call has just made parameters (a value past MAX_VERSIONS, or a long id)
   */
  apply(
    service: string,
    method: string,
    template: string,
    path: string,
    learn: boolean,
  ): { template: string; unpinned?: Unpinned[] } {
    const at = this.positions.get(template);
    if (at.length === 0) return { template };
    const parts = template.split('/');
    const raw = pathOnly(path).split('/');
    if (raw.length !== parts.length) return { template };
    const out = parts.slice();
    let changed = false;
    let unpinned: Unpinned[] | undefined;
    for (const { index: i, anywhere } of at) {
      const key = `${service} ${method} ${parts.slice(0, i).join('/')}`;
      const state = this.states.get(key);
      const value = raw[i];
      if (state?.includes(value)) {
        out[i] = value;
        changed = true;
        continue;
      }
      if (!learn || (state !== undefined && state.length === 0)) continue;
      const pin = pinnable(parts[i], value, anywhere) && (state?.length ?? 0) < MAX_VERSIONS;
      if (pin) {
        if (state) state.push(value);
        else this.states.set(key, [value]);
        out[i] = value;
        changed = true;
      } else {
        this.states.set(key, []);
        if (state) unpinned = [...(unpinned ?? []), { index: i, values: state }];
      }
    }
    const pinned = changed ? out.join('/') : template;
    return unpinned ? { template: pinned, unpinned } : { template: pinned };
  }

  /** the pinned values of each position (none: a parameter), least recently used first */
  snapshot(): [string, string[]][] {
    return [...this.states.rentries()].map(([k, v]) => [k as string, [...(v as string[])]]);
  }

  /** the state of a snapshot, replacing this one's; malformed items are skipped */
  restore(state: unknown): void {
    this.states.clear();
    for (const { key, values } of keyedStringLists(state)) {
      const pinned = values.filter((v) => v !== '');
      if (pinned.length <= MAX_VERSIONS) this.states.set(key, pinned);
    }
  }
}

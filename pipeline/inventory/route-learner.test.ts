import fc from 'fast-check';
import { LRUCache } from 'lru-cache';
import { describe, expect, it } from 'vitest';
import {
  chao1,
  ESTIMATE_ONCE_SHARE,
  isActionName,
  LEARNED_PLACEHOLDER,
  NOVEL_SHARE,
  RouteLearner,
  type RouteLearnerOptions,
} from './route-learner.js';

describe('RouteLearner', () => {
  it('folds a position once it has more than maxDistinct literal values, per service, across methods', () => {
    const l = new RouteLearner({ maxDistinct: 5 });
    const names = ['alice', 'bob', 'carol', 'dave', 'erin'];
    // the values of one position under any method count together
    const methods = ['GET', 'DELETE', 'PUT', 'GET', 'PATCH'];
    names.forEach((n, i) => {
      expect(l.learn('github', methods[i], `/users/${n}/repos`).template).toBe(`/users/${n}/repos`);
    });
    const sixth = l.learn('github', 'GET', '/users/frank/repos');
    expect(sixth.template).toBe('/users/{param}/repos');
    expect(sixth.newlyFolded).toBe('github * /users');
    expect(l.learn('github', 'GET', '/users/alice').template).toBe('/users/{param}');
    expect(l.apply('github', 'GET', '/users/zed/repos')).toBe('/users/{param}/repos');
    // the fold holds for every method of the service; another service is not affected
    expect(l.learn('github', 'POST', '/users/alice').template).toBe('/users/{param}');
    expect(l.learn('gitlab', 'GET', '/users/alice').template).toBe('/users/alice');
    // per method (acrossMethods false): five values under five methods are one each, and a fold is of its method
    const per = new RouteLearner({ maxDistinct: 5, acrossMethods: false });
    names.forEach((n, i) => {
      per.learn('github', methods[i], `/users/${n}/repos`);
    });
    expect(per.learn('github', 'GET', '/users/frank/repos').template).toBe('/users/frank/repos');
    for (const n of ['x', 'y']) per.learn('github', 'GET', `/users/${n}/repos`); // GET: alice, dave, frank, x, y
    expect(per.learn('github', 'GET', '/users/w/repos').newlyFolded).toBe('github GET /users');
    expect(per.learn('github', 'POST', '/users/alice').template).toBe('/users/alice');
  });

  it('folds early where nearly every call brings a new value (minNovel), not where the values repeat', () => {
    const l = new RouteLearner({ maxDistinct: 200, minNovel: 16 });
    const users = Array.from({ length: 19 }, (_, i) => `user-${i}`);
    for (const u of users.slice(0, 15)) expect(l.learn('s', 'GET', `/accounts/${u}/feeds`).template).toContain(u);
    l.learn('s', 'GET', '/accounts/user-0/feeds'); // a repeat: from here distinct = calls - 1, below 0.95 x calls …
    for (const u of users.slice(15, 18)) expect(l.learn('s', 'GET', `/accounts/${u}/feeds`).template).toContain(u);
    // … until the 20th call (19 values >= 0.95 x 20)
    expect(l.learn('s', 'GET', '/accounts/user-18/feeds')).toMatchObject({
      template: '/accounts/{param}/feeds',
      newlyFolded: 's * /accounts',
    });
    // 40 static siblings, each called three times in a row as a client does: repeats, so only maxDistinct folds
    const r = new RouteLearner({ maxDistinct: 200, minNovel: 16 });
    for (let i = 0; i < 40; i++)
      for (let k = 0; k < 3; k++)
        expect(r.learn('s', 'GET', `/reports/kind${'abcdefghij'[i % 10]}${i}`).newlyFolded).toBeUndefined();
    expect(r.learn('s', 'GET', '/reports/kinda0').template).toBe('/reports/kinda0');
    // the default (24): a set of 20 siblings walked in strict rotation (a synthetic monitor, a load-test script) stays
    // literal; such a set of more than 24 would be folded
    const rotation = new RouteLearner();
    for (let round = 0; round < 5; round++)
      for (let i = 0; i < 20; i++)
        expect(
          rotation.learn('s', 'GET', `/api/resource${'abcdefghijklmnopqrst'[i]}/items`).newlyFolded,
        ).toBeUndefined();
    // off: only maxDistinct
    const off = new RouteLearner({ maxDistinct: 200, minNovel: 0 });
    for (const u of users) off.learn('s', 'GET', `/accounts/${u}`);
    expect(off.learn('s', 'GET', '/accounts/zed').template).toBe('/accounts/zed');
  });

  it('folds where the estimated number of values reaches estimatedDistinct, though popular values repeat', () => {
    // 100 users, user-0 in every other call (popular): 1 value in 2 calls is new, far from the novelty share
    const l = new RouteLearner();
    const calls: string[] = [];
    for (let i = 1; calls.length < 200; i++) calls.push('user-0', `user-${i}`);
    let foldedAt = -1;
    calls.forEach((u, i) => {
      const r = l.learn('s', 'GET', `/accounts/${u}/feeds`);
      if (r.newlyFolded !== undefined && foldedAt < 0) foldedAt = i;
    });
    // the 64th distinct value (estimateMinValues), user-63, arrives at call 126: 63 values seen once, user-0 many times, so the
    // estimate is 64 + 63 x 62 / 2 = 2017 >= 300
    expect(chao1(64, 63, 0)).toBe(2017);
    expect(foldedAt).toBe(125);
    expect(l.apply('s', 'GET', '/accounts/user-999/feeds')).toBe('/accounts/{param}/feeds');
    // without the estimate only route_max_distinct (200) folds it: 100 values are not enough
    const off = new RouteLearner({ estimatedDistinct: 0 });
    for (const u of calls) expect(off.learn('s', 'GET', `/accounts/${u}/feeds`).newlyFolded).toBeUndefined();
    // 80 static siblings with skewed popularity, each called at least three times: nothing is seen once for long, the
    // estimate stays near the values seen, and they stay literal
    const statics = new RouteLearner();
    for (let i = 0; i < 80; i++)
      for (let k = 0; k < 3 + (i % 5 === 0 ? 20 : 0); k++)
        expect(
          statics.learn('s', 'GET', `/reports/report${String.fromCharCode(97 + (i % 26))}${i}`).newlyFolded,
        ).toBeUndefined();
    expect(statics.stats().folded).toBe(0);
    // 20 static siblings taking most calls beside a parameter with 70 values so far: 90 values, 70 seen once (an
    // estimate of 2505), but only 70 of 770 calls are of values seen once, below ESTIMATE_ONCE_SHARE: no fold
    const mixed = new RouteLearner();
    let names = 0;
    for (let round = 0; round < 35; round++) {
      for (const s of ['json', 'search', 'get', 'load', 'prune', 'create', 'export', 'history', 'tag', 'push'])
        for (const suffix of ['', 's'])
          expect(mixed.learn('s', 'GET', `/images/${s}${suffix}`).newlyFolded).toBeUndefined();
      for (let k = 0; k < 2; k++)
        expect(mixed.learn('s', 'GET', `/images/name-${names++}`).newlyFolded).toBeUndefined();
    }
    expect(70 / 770).toBeLessThan(ESTIMATE_ONCE_SHARE);
    expect(chao1(90, 70, 0)).toBeGreaterThan(300);
    // the counts behind the estimate: a value called twice is no longer seen once, a third call not twice either
    const small = { maxDistinct: 10, minNovel: 0, estimatedDistinct: 4, estimateMinValues: 3 };
    const twice = new RouteLearner(small);
    for (const v of ['x', 'x', 'y', 'z']) twice.learn('s', 'GET', `/k/${v}`); // 3 + 2 x 1 / (2 x 2) = 3.5
    expect(twice.stats().folded).toBe(0);
    const thrice = new RouteLearner(small);
    for (const v of ['x', 'x', 'x', 'y']) thrice.learn('s', 'GET', `/k/${v}`);
    expect(thrice.learn('s', 'GET', '/k/z').newlyFolded).toBe('s * /k'); // 3 + 2 x 1 / (2 x 1) = 4
  });

  it('keeps low-cardinality word positions literal and never folds the first segment by default', () => {
    const l = new RouteLearner({ maxDistinct: 3 });
    for (let i = 0; i < 20; i++) {
      for (const action of ['search', 'export', 'me']) l.learn('svc', 'GET', `/orders/${action}`);
    }
    expect(l.learn('svc', 'GET', '/orders/search').template).toBe('/orders/search');
    for (const top of ['a', 'b', 'c', 'd', 'e', 'f']) expect(l.learn('svc', 'GET', `/${top}`).template).toBe(`/${top}`);
  });

  it('does not count placeholders and bounds its memory', () => {
    const l = new RouteLearner({ maxDistinct: 2, maxPrefixes: 10 });
    for (let i = 0; i < 10; i++) l.learn('svc', 'GET', `/items/{id}/x${i}`);
    expect(l.learn('svc', 'GET', '/items/{id}/y').template).toBe('/items/{id}/{param}');
    for (let i = 0; i < 1000; i++) l.learn('svc', 'GET', `/p${i}/q/r`);
    const s = l.stats();
    expect(s.prefixes).toBeLessThanOrEqual(10);
    expect(s.folded).toBeLessThanOrEqual(10);
  });

  it('a typed placeholder at a folded position is the same parameter: /tags/{id} joins /tags/{param}', () => {
    const l = new RouteLearner({ maxDistinct: 2 });
    expect(l.learn('s', 'GET', '/tags/{id}/items').template).toBe('/tags/{id}/items');
    for (const t of ['red', 'green', 'blue']) l.learn('s', 'GET', `/tags/${t}/items`);
    expect(l.learn('s', 'GET', '/tags/{id}/items').template).toBe('/tags/{param}/items');
    expect(l.apply('s', 'GET', '/tags/{uuid}/items')).toBe('/tags/{param}/items');
    // not where the position is not folded, and never the first segment
    expect(l.learn('s', 'GET', '/users/{id}').template).toBe('/users/{id}');
    expect(l.apply('s', 'GET', '/{id}/tags')).toBe('/{id}/tags');
  });

  it('a folding position keeps its few action names literal, not where its values look so', () => {
    const l = new RouteLearner({ maxDistinct: 29, minNovel: 0 });
    const actions = ['addThingToThingGroup', 'removeThingFromThingGroup'];
    for (const a of actions) l.learn('iot', 'PUT', `/thing-groups/${a}`);
    const groups = Array.from({ length: 28 }, (_, i) => `group-${i}x`);
    const answers = groups.map((g) => l.learn('iot', 'PATCH', `/thing-groups/${g}`).template);
    expect(answers.at(-1)).toBe('/thing-groups/{param}');
    // two of thirty values: the actions stay endpoints of their own, also as walks replayed and after a checkpoint
    for (const a of actions) {
      expect(l.learn('iot', 'PUT', `/thing-groups/${a}`).template).toBe(`/thing-groups/${a}`);
      expect(l.learn('iot', 'PUT', `/thing-groups/${a}`).template).toBe(`/thing-groups/${a}`);
      expect(l.apply('iot', 'PUT', `/thing-groups/${a}/x`)).toBe(`/thing-groups/${a}/x`);
    }
    // room for a tenth of the thirty: three
    expect(l.snapshot().folded).toEqual([['iot * /thing-groups', actions, 3]]);
    const r = new RouteLearner({ maxDistinct: 29, minNovel: 0 });
    r.restore(JSON.parse(JSON.stringify(l.snapshot())));
    expect(r.apply('iot', 'PUT', `/thing-groups/${actions[1]}`)).toBe(`/thing-groups/${actions[1]}`);
    // an action first called after the fold takes the room left; then actions, like other literals, are the parameter
    expect(r.learn('iot', 'PUT', '/thing-groups/updateThingGroupsForThing').template).toBe(
      '/thing-groups/updateThingGroupsForThing',
    );
    expect(r.learn('iot', 'GET', '/thing-groups/listThingsInThingGroup').template).toBe('/thing-groups/{param}');
    expect(r.apply('iot', 'GET', '/thing-groups/group-z')).toBe('/thing-groups/{param}');
    expect(r.snapshot().folded).toEqual([['iot * /thing-groups', [...actions, 'updateThingGroupsForThing'], 3]]);

    // function names: most values camelCase, so none is kept
    const f = new RouteLearner({ maxDistinct: 10 });
    for (let i = 0; i < 11; i++) f.learn('fn', 'POST', `/functions/processOrder${String.fromCharCode(65 + i)}x`);
    expect(f.apply('fn', 'POST', '/functions/processOrderAx')).toBe('/functions/{param}');
    expect(f.snapshot().folded).toEqual(['fn * /functions']);
    // short or not letter-only names are values too
    for (const v of ['getX', 'get2Things', 'get_things', 'alice', 'urn:li:person:7', '$1', 'a(b']) {
      expect(isActionName(v)).toBe(false);
    }
    for (const v of ['listObjects', '$count', 'microsoft.graph.delta()', "getCounts(period='D7')", 'people:batchGet'])
      expect(isActionName(v)).toBe(true);
  });

  it('snapshot and restore keep the folds', () => {
    const l = new RouteLearner({ maxDistinct: 1 });
    l.learn('s', 'GET', '/u/a');
    l.learn('s', 'GET', '/u/b');
    const r = new RouteLearner({ maxDistinct: 1 });
    r.restore(JSON.parse(JSON.stringify(l.snapshot())));
    expect(r.apply('s', 'GET', '/u/c')).toBe('/u/{param}');
    // the values counted towards a fold come back too: one more at /v folds it, as in the learner that never stopped
    l.learn('s', 'GET', '/v/a');
    r.restore(JSON.parse(JSON.stringify(l.snapshot())));
    expect(r.learn('s', 'GET', '/v/b')).toMatchObject({ template: '/v/{param}', newlyFolded: 's * /v' });
    // a checkpoint without call counts (before minNovel) restores as one call per value
    r.restore({ folded: [], values: [['s * /w', ['a']]] });
    expect(r.snapshot().values).toEqual([['s * /w', ['a'], 1, [1]]]);
    // one without the calls of each value: two calls each when they cannot all have been one
    r.restore({ folded: [], values: [['s * /w', ['a'], 3]] });
    expect(r.snapshot().values).toEqual([['s * /w', ['a'], 3, [2]]]);
    r.restore({ folded: 'garbage', values: [['k', 'not a list'], 7], words: [['w', 7], 'x'] });
    expect(r.snapshot()).toEqual({ folded: [], values: [], words: [] });
  });

  it('counts the values after a word together where it precedes several positions, and folds them together', () => {
    const options = { minNovel: 6, estimatedDistinct: 0 };
    const l = new RouteLearner(options);
    // three secrets of a repository, three of an organisation: too few for either position alone
    for (const name of ['deploy', 'npm-token', 'aws']) l.learn('gh', 'PUT', `/repos/{id}/actions/secrets/${name}`);
    expect(l.snapshot().words).toContainEqual(['gh * ~secrets', 'gh * /repos/{id}/actions/secrets']);
    for (const name of ['sonar', 'slack']) l.learn('gh', 'GET', `/orgs/{id}/actions/secrets/${name}`);
    // the word's count started from the repository's three when the organisation's came
    expect(l.snapshot().words).toContainEqual(['gh * ~secrets', '']);
    expect(l.learn('gh', 'DELETE', '/orgs/{id}/actions/secrets/pypi')).toEqual({
      template: '/orgs/{id}/actions/secrets/{param}',
      newlyFolded: 'gh * ~secrets',
    });
    // every position after the word is the parameter now, also one it had never preceded, literal or typed
    expect(l.learn('gh', 'GET', '/repos/{id}/actions/secrets/deploy').template).toBe(
      '/repos/{id}/actions/secrets/{param}',
    );
    expect(l.apply('gh', 'GET', '/user/codespaces/secrets/gpg')).toBe('/user/codespaces/secrets/{param}');
    expect(l.apply('gh', 'GET', '/user/codespaces/secrets/{uuid}/repositories')).toBe(
      '/user/codespaces/secrets/{param}/repositories',
    );
    // a word before one position only is counted there alone; after a placeholder there is no word
    for (const name of ['c', 'go', 'java', 'node']) l.learn('gh', 'GET', `/gitignore/templates/${name}`);
    expect(l.snapshot().values.map(([key]) => key)).not.toContain('gh * ~templates');
    expect(l.snapshot().words.map(([key]) => key)).not.toContain('gh * ~{id}');
    // a checkpoint keeps where each word has been
    const r = new RouteLearner(options);
    r.restore(JSON.parse(JSON.stringify(l.snapshot())));
    r.learn('gh', 'GET', '/gists/{id}/templates/ruby');
    expect(r.snapshot().values).toContainEqual([
      'gh * ~templates',
      ['c', 'go', 'java', 'node', 'ruby'],
      5,
      [1, 1, 1, 1, 1],
    ]);
    // off: each position alone
    const alone = new RouteLearner({ ...options, sharedWords: false });
    for (const name of ['deploy', 'npm-token', 'aws']) alone.learn('gh', 'PUT', `/repos/{id}/actions/secrets/${name}`);
    for (const name of ['sonar', 'slack', 'pypi'])
      expect(alone.learn('gh', 'GET', `/orgs/{id}/actions/secrets/${name}`).template).toBe(
        `/orgs/{id}/actions/secrets/${name}`,
      );
    expect(alone.snapshot().words).toEqual([]);
  });
});

/** the learner as first written (a full walk every call), kept as the model the replaying learner must match */
class FullWalkModel {
  private readonly values: LRUCache<string, { values: Map<string, number>; calls: number }>;
  /** each fold with the literals it keeps and how many it may */
  private readonly folded: LRUCache<string, { kept: string[]; room: number }>;
  /** each word's first prefix, '' once it has preceded two */
  private readonly words: LRUCache<string, string>;
  constructor(private readonly o: RouteLearnerOptions) {
    this.values = new LRUCache({ max: o.maxPrefixes });
    this.folded = new LRUCache({ max: o.maxPrefixes });
    this.words = new LRUCache({ max: o.maxPrefixes });
  }
  learn(service: string, method: string, template: string): { template: string; newlyFolded?: string } {
    const parts = template.split('/');
    let newlyFolded: string | undefined;
    const root = `${service} ${this.o.acrossMethods ? '*' : method} `;
    let prefix = root;
    const isPlaceholder = (p: string) => /^(\{[^}]*\}|:[A-Za-z_]\w*|<[^>]+>)$/.test(p);
    for (let i = 1; i < parts.length; i++) {
      const key = prefix;
      const placeholder = isPlaceholder(parts[i]);
      const before = parts[i - 1];
      const word = this.o.sharedWords && before !== '' && !isPlaceholder(before) ? `${root}~${before}` : undefined;
      const foldAt = () => {
        const byPrefix = this.folded.get(key);
        if (byPrefix) return byPrefix;
        return word === undefined ? undefined : this.folded.get(word);
      };
      if (i >= this.o.minPosition && placeholder && parts[i] !== LEARNED_PLACEHOLDER) {
        if (foldAt()) parts[i] = LEARNED_PLACEHOLDER;
      } else if (i >= this.o.minPosition && !placeholder && parts[i] !== '') {
        const fold = foldAt();
        if (fold) {
          if (isActionName(parts[i]) && !fold.kept.includes(parts[i]) && fold.kept.length < fold.room)
            fold.kept.push(parts[i]);
          if (!fold.kept.includes(parts[i])) parts[i] = LEARNED_PLACEHOLDER;
        } else {
          const byPrefix = this.countAt(key, parts[i]);
          let byWord = false;
          if (word !== undefined) {
            const first = this.words.get(word);
            if (first === undefined) this.words.set(word, key);
            else if (first !== key) {
              if (first !== '') {
                // the word's values start as those its first position still counts
                this.words.set(word, '');
                const seed = this.values.peek(first);
                if (seed) this.values.set(word, { values: new Map(seed.values), calls: seed.calls });
              }
              byWord = this.countAt(word, parts[i]);
            }
          }
          if (byPrefix || byWord) {
            const foldKey = byPrefix ? key : (word as string);
            if (!this.folded.get(foldKey)?.kept.includes(parts[i])) parts[i] = LEARNED_PLACEHOLDER;
            newlyFolded ??= foldKey;
          }
        }
      }
      prefix = `${prefix}/${parts[i]}`;
    }
    return newlyFolded === undefined ? { template: parts.join('/') } : { template: parts.join('/'), newlyFolded };
  }
  /** count a value under a key; true when the key has just folded */
  private countAt(key: string, part: string): boolean {
    let counted = this.values.get(key);
    if (!counted) {
      counted = { values: new Map(), calls: 0 };
      this.values.set(key, counted);
    }
    counted.values.set(part, (counted.values.get(part) ?? 0) + 1);
    counted.calls++;
    const distinct = counted.values.size;
    const novel = this.o.minNovel > 0 && distinct >= this.o.minNovel && distinct >= NOVEL_SHARE * counted.calls;
    const n = [...counted.values.values()];
    const estimate = chao1(distinct, n.filter((c) => c === 1).length, n.filter((c) => c === 2).length);
    const many =
      this.o.estimatedDistinct > 0 &&
      distinct >= this.o.estimateMinValues &&
      n.filter((c) => c === 1).length >= ESTIMATE_ONCE_SHARE * counted.calls &&
      estimate >= this.o.estimatedDistinct;
    if (!(distinct > this.o.maxDistinct || novel || many)) return false;
    this.values.delete(key);
    // action names kept where they are at most keptShare of the values, more later while there is room
    const names = [...counted.values.keys()].filter(isActionName);
    const room = Math.floor(this.o.keptShare * distinct);
    this.folded.set(key, names.length <= room ? { kept: names, room } : { kept: [], room: 0 });
    return true;
  }
  snapshot(): {
    folded: (string | [string, string[], number])[];
    values: [string, string[], number, number[]][];
    words: [string, string][];
  } {
    return {
      words: [...this.words.rentries()] as [string, string][],
      folded: [...this.folded.rentries()].map(([k, f]) => {
        const { kept, room } = f as { kept: string[]; room: number };
        return room === 0 ? (k as string) : [k as string, [...kept], room];
      }),
      values: [...this.values.rentries()].map(([k, c]) => {
        const { values, calls } = c as { values: Map<string, number>; calls: number };
        return [k as string, [...values.keys()], calls, [...values.values()]];
      }),
    };
  }
}

describe('RouteLearner replays remembered walks', () => {
  it('answers, folds and forgets exactly as a full walk every call does, also across a checkpoint', () => {
    const call = fc.record({
      service: fc.constantFrom('s1', 's2'),
      method: fc.constantFrom('GET', 'POST'),
      parts: fc
        .tuple(
          fc.constantFrom('a', 'b', 'c'),
          fc.array(fc.constantFrom('x', 'y', 'z', 'w', 'v', 'listAllItems', '$count', '{id}', ''), { maxLength: 3 }),
        )
        .map(([first, rest]) => [first, ...rest]),
    });
    // calls drawn from a small pool, so the same template comes back often (the replayed case)
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom(0, 2, 3),
        fc.constantFrom(0, 3, 4, 5, 7),
        fc.boolean(),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom(0, 0.1, 0.5, 1),
        fc.boolean(),
        fc.array(call, { minLength: 1, maxLength: 10 }),
        fc.array(fc.nat(), { minLength: 20, maxLength: 200 }),
        fc.integer({ min: 0, max: 200 }),
        (
          maxDistinct,
          minNovel,
          estimatedDistinct,
          acrossMethods,
          maxPrefixes,
          minPosition,
          keptShare,
          sharedWords,
          pool,
          picks,
          restoreAt,
        ) => {
          const options = {
            maxDistinct,
            minNovel,
            estimatedDistinct,
            estimateMinValues: 2,
            acrossMethods,
            maxPrefixes,
            minPosition,
            keptShare,
            sharedWords,
          };
          let learner = new RouteLearner(options);
          const model = new FullWalkModel(options);
          picks.forEach((pick, i) => {
            if (i === restoreAt) {
              // a handover: a new learner from the checkpoint goes on as the model, which never stopped
              const checkpoint = JSON.parse(JSON.stringify(learner.snapshot()));
              learner = new RouteLearner(options);
              learner.restore(checkpoint);
            }
            const { service, method, parts } = pool[pick % pool.length];
            const template = `/${parts.join('/')}`;
            expect({ ...learner.learn(service, method, template) }).toEqual(model.learn(service, method, template));
            expect(learner.snapshot()).toEqual(model.snapshot());
          });
        },
      ),
      { numRuns: 400 },
    );
  });

  it('refreshes the folds a replayed walk passes, and forgets walks through a fold the cap dropped', () => {
    const l = new RouteLearner({ maxDistinct: 1, maxPrefixes: 2 });
    for (const t of ['/a/x', '/a/y', '/b/x', '/b/y', '/a/z', '/b/z']) l.learn('s', 'GET', t);
    // least recently used first
    expect(l.snapshot().folded).toEqual(['s * /a', 's * /b']);
    expect(l.learn('s', 'GET', '/a/z').template).toBe('/a/{param}'); // replayed
    expect(l.snapshot().folded).toEqual(['s * /b', 's * /a']);
    // a third fold drops the least recent one (/b): its remembered walk must not be replayed as folded
    l.learn('s', 'GET', '/c/x');
    l.learn('s', 'GET', '/c/y');
    expect(l.snapshot().folded).toEqual(['s * /a', 's * /c']);
    expect(l.learn('s', 'GET', '/b/z').template).toBe('/b/z');
  });
});

import { describe, expect, it } from 'vitest';
import { RouteLearner } from './route-learner.js';

describe('RouteLearner', () => {
  it('folds a position once it has more than maxDistinct literal values, per service and method', () => {
    const l = new RouteLearner({ maxDistinct: 5 });
    const names = ['alice', 'bob', 'carol', 'dave', 'erin'];
    for (const n of names) expect(l.learn('github', 'GET', `/users/${n}/repos`).template).toBe(`/users/${n}/repos`);
    const sixth = l.learn('github', 'GET', '/users/frank/repos');
    expect(sixth.template).toBe('/users/{param}/repos');
    expect(sixth.newlyFolded).toBe('github GET /users');
    expect(l.learn('github', 'GET', '/users/alice').template).toBe('/users/{param}');
    expect(l.apply('github', 'GET', '/users/zed/repos')).toBe('/users/{param}/repos');
    // another method or service is not affected
    expect(l.learn('github', 'POST', '/users/alice').template).toBe('/users/alice');
    expect(l.learn('gitlab', 'GET', '/users/alice').template).toBe('/users/alice');
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

  it('snapshot and restore keep the folds', () => {
    const l = new RouteLearner({ maxDistinct: 1 });
    l.learn('s', 'GET', '/u/a');
    l.learn('s', 'GET', '/u/b');
    const r = new RouteLearner({ maxDistinct: 1 });
    r.restore(JSON.parse(JSON.stringify(l.snapshot())));
    expect(r.apply('s', 'GET', '/u/c')).toBe('/u/{param}');
    r.restore({ folded: 'garbage' });
  });
});

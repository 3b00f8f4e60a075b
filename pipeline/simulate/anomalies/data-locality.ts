import { principalOf } from '../topology.js';
import { type Injector, spread } from './types.js';

/** a workload in a US cluster reads EU users' personal records from the EU cluster (a misrouted failover) */
export const dataLocality: Injector = {
  kind: 'data_locality',
  defaultDurationMs: 4 * 60_000,
  inject(world, w, _req, rng) {
    const caller = rng.pick(['frontend', 'orders']);
    const eu = world.users.filter((u) => u.region === 'eu-west-1');
    spread(rng, w, rng.int(4, 12)).forEach((ts) => {
      const u = rng.pick(eu);
      world.meshCall({
        ts,
        caller,
        principal: principalOf(caller),
        service: 'users',
        method: 'GET',
        route: '/users/{id}',
        path: `/users/${u.sub}`,
        region: 'eu-west-1',
        sourceRegion: 'us-east-1',
        user: u,
      });
    });
    return [
      {
        kind: 'data_locality',
        service: 'users',
        endpoint: 'GET /users/{id}',
        subject: { type: 'service', value: caller },
        start: w.start,
        end: w.end,
      },
    ];
  },
};

import { edgeEndpoint } from '../topology.js';
import { attackerIp } from '../world.js';
import { type Injector, spread } from './types.js';

/** one address tries many usernames with leaked passwords: nearly every attempt fails */
export const credentialStuffing: Injector = {
  kind: 'credential_stuffing',
  defaultDurationMs: 6 * 60_000,
  inject(world, w, _req, rng) {
    const ip = attackerIp(rng);
    const n = rng.int(40, 90);
    spread(rng, w, n).forEach((ts) => {
      const known = rng.chance(0.7);
      const username = known ? world.pickUser(rng).sub : String(rng.int(900000, 999999));
      world.edgeCall(ts, edgeEndpoint('POST /api/login'), {
        user: null,
        ip,
        login: { username, outcome: rng.chance(0.97) ? 'failure' : 'success' },
      });
    });
    return [
      {
        kind: 'credential_stuffing',
        service: 'frontend',
        endpoint: 'POST /api/login',
        subject: { type: 'ip', value: ip },
        start: w.start,
        end: w.end,
        alsoAt: [{ service: 'auth', endpoint: 'POST /oauth/token' }],
      },
    ];
  },
};

/** one account's password guessed over and over */
export const bruteForce: Injector = {
  kind: 'brute_force',
  defaultDurationMs: 6 * 60_000,
  inject(world, w, _req, rng) {
    const victim = world.pickUser(rng);
    const ips = rng.chance(0.5) ? [attackerIp(rng)] : Array.from({ length: 4 }, () => attackerIp(rng));
    const n = rng.int(25, 60);
    spread(rng, w, n).forEach((ts, i) => {
      world.edgeCall(ts, edgeEndpoint('POST /api/login'), {
        user: null,
        ip: ips[i % ips.length],
        login: { username: victim.sub, outcome: 'failure' },
      });
    });
    return [
      {
        kind: 'brute_force',
        service: 'frontend',
        endpoint: 'POST /api/login',
        subject: { type: 'user', value: victim.sub },
        start: w.start,
        end: w.end,
        alsoAt: [{ service: 'auth', endpoint: 'POST /oauth/token' }],
        // 25–60 logins to one account in minutes, where an account signs in a few times
        alsoKinds: ['excessive_calls'],
      },
    ];
  },
};

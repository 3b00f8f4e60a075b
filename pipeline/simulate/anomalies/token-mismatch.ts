import { edgeEndpoint } from '../topology.js';
import { attackerIp } from '../world.js';
import { type Injector, spread } from './types.js';

const BROWSE = ['GET /api/products/{id}', 'GET /api/account', 'GET /api/orders', 'GET /api/products'];

/**
 * A token used by someone other than its owner. Variants: `replay` (a stolen token from many addresses),
 * `shared` (one token presented for several user ids), `path_owner` (a user reading other users' records by id).
 */
export const tokenMismatch: Injector = {
  kind: 'token_mismatch',
  defaultDurationMs: 5 * 60_000,
  inject(world, w, req, rng) {
    const variant = req.variant ?? rng.pick(['replay', 'shared', 'path_owner']);
    const victim = world.pickUser(rng);
    const token = world.tokenOf(victim, w.start);
    if (variant === 'replay') {
      const ips = Array.from({ length: rng.int(8, 14) }, () => attackerIp(rng));
      spread(rng, w, ips.length * 3).forEach((ts, i) => {
        world.edgeCall(ts, edgeEndpoint(rng.pick(BROWSE)), { user: victim, tokenHash: token, ip: ips[i % ips.length] });
      });
      return [
        {
          kind: 'token_mismatch',
          service: 'frontend',
          subject: { type: 'token', value: token },
          start: w.start,
          end: w.end,
          note: 'replay',
        },
      ];
    }
    if (variant === 'shared') {
      const others = Array.from({ length: rng.int(3, 5) }, () => world.pickUser(rng));
      spread(rng, w, others.length * 3).forEach((ts, i) => {
        const u = others[i % others.length];
        world.edgeCall(ts, edgeEndpoint(rng.pick(BROWSE)), { user: u, tokenHash: token, ip: u.ips[0] });
      });
      return [
        {
          kind: 'token_mismatch',
          service: 'frontend',
          subject: { type: 'token', value: token },
          start: w.start,
          end: w.end,
          note: 'shared',
        },
      ];
    }
    // path_owner: the attacker's own valid token, other users' ids in the path
    const attackerToken = world.tokenOf(victim, w.start);
    const targets = Array.from({ length: rng.int(3, 6) }, () => world.pickUser(rng)).filter(
      (u) => u.sub !== victim.sub,
    );
    spread(rng, w, targets.length).forEach((ts, i) => {
      world.edgeCall(ts, edgeEndpoint('GET /api/users/{id}'), {
        user: victim,
        tokenHash: attackerToken,
        ip: victim.ips[0],
        prepare: (c) => {
          c.ids.owner = targets[i].sub;
        },
      });
    });
    return [
      {
        kind: 'token_mismatch',
        service: 'users',
        endpoint: 'GET /users/{id}',
        subject: { type: 'token', value: attackerToken },
        start: w.start,
        end: w.end,
        note: 'path_owner',
      },
    ];
  },
};

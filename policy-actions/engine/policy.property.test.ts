import { readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { MeshwardError } from '../../pipeline/core/errors.js';
import { type CompiledPolicy, compilePolicy, parsePolicy } from './policy.js';

/**
 * The policy loader is the last gate before actions at the IdP and gateways: whatever the file, it compiles to a
 * policy whose values are safe to act on (durations a clock can represent, allowlist entries that mean what they
 * say) or fails with MW_ERR_POLICY_INVALID naming where; never a TypeError, never a surprise later.
 */

const VALID_TEXT = readFileSync(join(import.meta.dirname, 'testdata/policy.yaml'), 'utf8');
const VALID = parseYaml(VALID_TEXT) as Record<string, unknown>;

const protoSnapshot = () => Object.getOwnPropertyNames(Object.prototype).sort().join(',');

/** compiles, or fails only with POLICY_INVALID naming a place (`rules.0.action.ttl: …`, `(root): …`) */
function compileOrPolicyInvalid(run: () => CompiledPolicy): CompiledPolicy | undefined {
  try {
    return run();
  } catch (err) {
    expect(err, String((err as Error)?.stack ?? err)).toBeInstanceOf(MeshwardError);
    expect((err as MeshwardError).code).toBe('MW_ERR_POLICY_INVALID');
    expect((err as Error).message).toMatch(/^policy file is invalid: (not valid YAML|\(root\)|.+): /s);
    return undefined;
  }
}

/** every duration a compiled policy holds is one a clock can add to now */
function expectUsableDurations(p: CompiledPolicy): void {
  const now = Date.now();
  for (const r of p.rules) {
    for (const ms of [r.ttlMs, r.escalationWindowMs, ...r.escalate.map((e) => e.ttlMs ?? 1)]) {
      expect(Number.isFinite(ms) && ms > 0, `${r.name}: ${ms}`).toBe(true);
      expect(() => new Date(now + ms).toISOString(), `${r.name}: ${ms} ms from now`).not.toThrow();
    }
  }
}

const anyValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(null, [], {}, '', 0, -1, 1e300, Number.POSITIVE_INFINITY, true, '1h', '0s', 'deny'),
);

/** the valid policy with values replaced at random places (keys kept, so the deep checks run) */
const mutatedPolicy = fc.array(fc.tuple(fc.nat(), anyValue), { minLength: 1, maxLength: 4 }).map((edits) => {
  const doc = structuredClone(VALID);
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, at: (string | number)[]) => {
    paths.push(at);
    if (v !== null && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) walk(x, [...at, Array.isArray(v) ? Number(k) : k]);
  };
  walk(doc, []);
  for (const [i, value] of edits) {
    const path = paths[1 + (i % (paths.length - 1))];
    let o = doc as Record<string | number, unknown>;
    for (const k of path.slice(0, -1)) {
      if (o[k] === null || typeof o[k] !== 'object') break;
      o = o[k] as Record<string | number, unknown>;
    }
    // a copy: fc.constantFrom hands out the same {} / [] each time, and a later edit may write into an earlier one
    o[path[path.length - 1]] = structuredClone(value);
  }
  return doc;
});

const durationText = fc.oneof(
  fc
    .tuple(
      fc.oneof(fc.nat(100), fc.constantFrom('0', '0.0001', '1.5', '99999999999999999999', '1e3', '007')),
      fc.constantFrom('ms', 's', 'm', 'h', 'd', ' s', 'w', ''),
    )
    .map(([n, u]) => `${n}${u}`),
  fc.constantFrom(0, -5, 0.1, 1e20, 8.64e15, 250),
);

const cidr = fc.oneof(
  fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([ip, bits]) => `${ip}/${bits}`),
  fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 })).map(([ip, bits]) => `${ip}/${bits}`),
  // the typos a hand-edited allowlist gets
  fc
    .tuple(
      fc.ipV4(),
      fc.constantFrom('/', '//8', '/8/9', '/ 8', '/08', '/+8', '/0x8', '/8.0', '/1e1', '/33', '/-1', '', '/abc', ' /8'),
    )
    .map(([ip, suffix]) => `${ip}${suffix}`),
);

/** the valid policy with a duration and an allowlist CIDR drawn at random: compiles or not on their merits */
const variedPolicy = fc.tuple(fc.nat(3), fc.constantFrom('ttl', 'window'), fc.nat()).chain(([rule, what, seed]) =>
  fc.tuple(durationText, cidr).map(([d, c]) => {
    const doc = structuredClone(VALID) as {
      escalation_window?: unknown;
      guardrails: { allowlist: { cidrs: string[] } };
      rules: { action: { ttl: unknown } }[];
    };
    if (what === 'ttl') doc.rules[rule].action.ttl = d;
    else doc.escalation_window = d;
    doc.guardrails.allowlist.cidrs[seed % 2] = c;
    return doc;
  }),
);

/** what a strict reader of CIDR notation makes of an entry, or null when it is not one */
function strictBlock(entry: string): { net: string; bits: number; family: 'ipv4' | 'ipv6' } | null {
  const m = /^([^/\s]+)\/(\d{1,3})$/.exec(entry);
  if (!m) return null;
  const family = isIP(m[1]);
  const bits = Number(m[2]);
  if (!family || bits > (family === 6 ? 128 : 32)) return null;
  return { net: m[1], bits, family: family === 6 ? 'ipv6' : 'ipv4' };
}

describe('policy loader under random documents (property)', () => {
  it('any document compiles to a usable policy or fails with MW_ERR_POLICY_INVALID naming where', () => {
    const proto = protoSnapshot();
    const outcomes = { compiled: 0, refused: 0 };
    fc.assert(
      fc.property(
        fc.oneof(mutatedPolicy, variedPolicy, anyValue, fc.anything({ withNullPrototype: true, maxDepth: 3 })),
        (doc) => {
          const p = compileOrPolicyInvalid(() => compilePolicy(doc));
          if (p) {
            outcomes.compiled++;
            expectUsableDurations(p);
          } else outcomes.refused++;
          expect(protoSnapshot()).toBe(proto);
        },
      ),
      { numRuns: 1500 },
    );
    expect(outcomes.compiled).toBeGreaterThan(20);
    expect(outcomes.refused).toBeGreaterThan(20);
  });

  it('any YAML text (random, mangled, hostile) compiles or fails with MW_ERR_POLICY_INVALID', () => {
    const proto = protoSnapshot();
    fc.assert(
      fc.property(
        fc.oneof(
          mutatedPolicy.map((d) => toYaml(d)),
          fc.string({ maxLength: 200 }),
          fc
            .tuple(fc.nat(VALID_TEXT.length), fc.string({ minLength: 1, maxLength: 4 }))
            .map(([at, junk]) => VALID_TEXT.slice(0, at) + junk + VALID_TEXT.slice(at)),
          fc.constantFrom(
            `rules: ${'['.repeat(5000)}${']'.repeat(5000)}`,
            'a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\nrules: []\n',
            '__proto__: { polluted: true }\nrules: []\n',
            'rules:\n  - { name: r, match: { labels: { __proto__: x } }, action: { type: deny, ttl: 1m } }\n',
            'rules: [ { name: r, match: {}, action: { type: deny, ttl: .inf } } ]',
            'rules: [ { name: r, match: {}, action: { type: deny, ttl: .nan } } ]',
            '',
            '- a list',
          ),
        ),
        (text) => {
          const p = compileOrPolicyInvalid(() => parsePolicy(text));
          if (p) expectUsableDurations(p);
          expect(protoSnapshot()).toBe(proto);
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        },
      ),
      { numRuns: 800 },
    );
  });

  it('a duration is accepted only when a clock can use it: more than zero and representable from now', () => {
    fc.assert(
      fc.property(durationText, durationText, (ttl, window) => {
        const doc = {
          escalation_window: window,
          rules: [{ name: 'r', match: {}, action: { type: 'deny', ttl }, escalate: [{ after: 1, ttl }] }],
        };
        const p = compileOrPolicyInvalid(() => compilePolicy(doc));
        if (p) expectUsableDurations(p);
      }),
      { numRuns: 600 },
    );
  });

  it('an allowlist CIDR is accepted only in strict notation, and then covers exactly its block', () => {
    fc.assert(
      fc.property(
        fc.array(cidr, { minLength: 1, maxLength: 4 }),
        fc.array(fc.oneof(fc.ipV4(), fc.ipV6()), { minLength: 1, maxLength: 20 }),
        (cidrs, probes) => {
          const p = compileOrPolicyInvalid(() => compilePolicy({ guardrails: { allowlist: { cidrs } }, rules: [] }));
          const blocks = cidrs.map(strictBlock);
          const firstBad = blocks.indexOf(null);
          if (!p) {
            // refused: for the first entry that is not strict CIDR, named by its index
            expect(firstBad).toBeGreaterThanOrEqual(0);
            return;
          }
          expect(firstBad, `accepted ${JSON.stringify(cidrs[firstBad])}`).toBe(-1);
          const reference = new BlockList();
          for (const b of blocks) if (b) reference.addSubnet(b.net, b.bits, b.family);
          // probe inside each block too, not only at random
          const inside = blocks.flatMap((b) => (b ? [b.net] : []));
          for (const ip of [...probes, ...inside]) {
            const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
            expect(p.allowlisted('ip', ip), `${ip} vs ${cidrs.join(', ')}`).toBe(reference.check(ip, family));
          }
        },
      ),
      { numRuns: 600 },
    );
  });
});

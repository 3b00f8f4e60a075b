import { BlockList, isIP, SocketAddress } from 'node:net';

/**
 * `inCidr(address, ranges)`: whether an address falls in a CIDR range (`"10.0.0.0/8"`, `"fd00::/8"`) or in any of a
 * list of them; a list entry without a prefix is one address. The ranges are parsed with Node's `net.BlockList`
 * (no hand-parsed addresses), once: literal ones and named lists when the config loads, others at their first use.
 */
export class CidrMatcher {
  /** the entries that are one address (no prefix, /32, /128), canonical: a set, so any number costs one lookup */
  private readonly addresses = new Set<string>();
  /** the real ranges: Node's BlockList checks them one by one, at ~2 µs a call whatever their number */
  private readonly ranges = new BlockList();
  private rangeCount = 0;
  /** the answers for the addresses last seen (callers repeat): a lookup instead of a BlockList call */
  private readonly answers = new Map<string, boolean>();

  /** throws a plain message (`not a CIDR range: …`) for an entry that is neither a range nor an address */
  constructor(entries: Iterable<string>) {
    for (const entry of entries) this.add(entry);
  }

  private add(entry: string): void {
    const slash = entry.indexOf('/');
    const address = slash < 0 ? entry : entry.slice(0, slash);
    const family = isIP(address);
    const prefixText = slash < 0 ? '' : entry.slice(slash + 1);
    const max = family === 6 ? 128 : 32;
    const prefix = slash < 0 ? max : /^[0-9]{1,3}$/.test(prefixText) ? Number(prefixText) : -1;
    if (family === 0 || prefix < 0 || prefix > max)
      throw new Error(
        `not a CIDR range or an address: ${JSON.stringify(entry)} (e.g. "10.0.0.0/8", "fd00::/8", "10.1.2.3")`,
      );
    if (prefix === max) this.addresses.add(canonical(address, family));
    else {
      this.ranges.addSubnet(address, prefix, family === 6 ? 'ipv6' : 'ipv4');
      this.rangeCount++;
    }
  }

  /** false for anything that is not an IPv4 or IPv6 address ("" when the record has none) */
  contains(address: string): boolean {
    let answer = this.answers.get(address);
    if (answer === undefined) {
      answer = this.check(address);
      // bounded: emptied when full (many distinct callers cost the checks again, never memory)
      if (this.answers.size >= MAX_ANSWERS) this.answers.clear();
      this.answers.set(address, answer);
    }
    return answer;
  }

  private check(address: string): boolean {
    const family = isIP(address);
    if (family === 0) return false;
    if (this.addresses.size > 0 && this.addresses.has(canonical(address, family))) return true;
    return this.rangeCount > 0 && this.ranges.check(address, family === 6 ? 'ipv6' : 'ipv4');
  }
}

const MAX_ANSWERS = 1024;

const MAPPED_V4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** the one spelling of an address: IPv6 lower case and compressed by Node; an IPv4-mapped IPv6 as its IPv4 */
function canonical(address: string, family: number): string {
  if (family !== 6) return address;
  const mapped = MAPPED_V4.exec(address);
  if (mapped && isIP(mapped[1]) === 4) return mapped[1];
  return new SocketAddress({ address, family: 'ipv6' }).address;
}

/** matchers made at run time for ranges not known at load (computed ones): at most this many are kept */
const MAX_CACHED = 256;

/**
 * The matchers of one compiled rule set. A named list (an array whose identity lasts) is keyed by itself; a literal
 * range, or a literal list that cel-js builds afresh at each evaluation, by its text. Those known at load are made
 * then (and refused then if invalid); one first met at run time is made then, and an invalid one throws: the rule's
 * evaluation error, counted.
 */
export class CidrMatchers {
  private readonly byList = new WeakMap<readonly string[], CidrMatcher>();
  private readonly byText = new Map<string, CidrMatcher>();

  /** a matcher for a range or a list of them, made once; throws for an invalid entry */
  of(ranges: string | readonly string[]): CidrMatcher {
    if (typeof ranges === 'string') return this.cached(`s${ranges}`, () => [ranges]);
    const known = this.byList.get(ranges);
    if (known) return known;
    // a named list reached through an expression (`c ? lists.a : lists.b`), not prepared at load: frozen, so its
    // identity lasts; keyed by it at first use rather than by its text at every evaluation
    if (Object.isFrozen(ranges)) {
      const m = new CidrMatcher(ranges);
      this.byList.set(ranges, m);
      return m;
    }
    // a literal list: the same text at each evaluation
    return this.cached(JSON.stringify(ranges), () => ranges);
  }

  /** a named list's matcher, made at load (the list's identity is what the rules see at run time) */
  prepareList(list: readonly string[]): void {
    if (!this.byList.has(list)) this.byList.set(list, new CidrMatcher(list));
  }

  private cached(key: string, entries: () => Iterable<string>): CidrMatcher {
    let m = this.byText.get(key);
    if (m === undefined) {
      m = new CidrMatcher(entries());
      if (this.byText.size < MAX_CACHED) this.byText.set(key, m);
    }
    return m;
  }
}

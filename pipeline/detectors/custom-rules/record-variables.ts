import { Environment } from '@marcbachmann/cel-js';
import type { ApiCallRecord } from '../../core/record.js';
import { routeOf } from '../shared/record-fields.js';
import { CidrMatchers } from './cidr.js';

// Typed classes (not plain objects) for the nested variables: the type checker knows their fields, so a misspelt
// `user.sbu` fails at load, and cel-js reads an instance as it is (a schema-declared object is copied into a Map on
// every evaluation). Every field is set: an absent optional field of the record reads as "", false or 0.

class CelSource {
  constructor(
    readonly ip: string,
    readonly service: string,
    readonly principal: string,
    readonly mtls: boolean,
  ) {}
}

class CelUser {
  constructor(
    readonly sub: string,
    readonly clientId: string,
    readonly sessionId: string,
    readonly authOutcome: string,
    readonly tokenHash: string,
  ) {}
}

class CelSensor {
  constructor(
    readonly kind: string,
    readonly id: string,
  ) {}
}

/** what an expression sees of one record; CEL ints are bigints */
export interface RecordVariables {
  method: string;
  service: string;
  host: string;
  path: string;
  route: string;
  endpoint: string;
  status: bigint;
  durationMs: number;
  reqBytes: bigint;
  respBytes: bigint;
  region: string;
  source: CelSource;
  user: CelUser;
  sensor: CelSensor;
  params: Record<string, string | number | boolean | null>;
  tags: Record<string, string>;
}

/** the variables and their CEL types, for the README and the environment */
export const VARIABLE_TYPES: Readonly<Record<string, string>> = {
  method: 'string',
  service: 'string',
  host: 'string',
  path: 'string',
  route: 'string',
  endpoint: 'string',
  status: 'int',
  durationMs: 'double',
  reqBytes: 'int',
  respBytes: 'int',
  region: 'string',
  source: 'Source',
  user: 'User',
  sensor: 'Sensor',
  params: 'map<string, dyn>',
  tags: 'map<string, string>',
};

/** the named lists, as the rules see them: one field per list (so `lists.nope` fails the type check at load) */
class CelLists {}

/**
 * the value of `lists` the rules read: a field per named list, sealed (no list added after load), its fields
 * writable so that a list read from a file is replaced, whole, when the file changed (ListFiles). cel-js reads the
 * field at each evaluation (a constant's fields are not folded into the expression)
 */
export function celLists(lists: NamedLists): Record<string, readonly string[]> {
  const value = new CelLists() as Record<string, readonly string[]>;
  for (const [name, entries] of Object.entries(lists)) value[name] = entries;
  return Object.seal(value);
}

/**
 * `inList(value, list)`: `value in list` as one set lookup. cel-js's `in` compares the value with every entry (10,000
 * entries: ~160 µs a record); a named list is the same frozen array at every evaluation, so its set is made once and
 * kept while the array lives. A literal list is a new array each evaluation: a set made for it, correct but no faster
 */
const listSets = new WeakMap<readonly string[], ReadonlySet<string>>();
/** the set of a list, made at its first use, or beforehand for a list read from a file (ListFiles: off the record path) */
export function listSet(list: readonly string[]): ReadonlySet<string> {
  let set = listSets.get(list);
  if (set === undefined) {
    set = new Set(list);
    listSets.set(list, set);
  }
  return set;
}
const inList = (value: string, list: readonly string[]): boolean => listSet(list).has(value);

/** the named lists of the config, each a frozen list<string>: the same arrays at every evaluation */
export type NamedLists = Readonly<Record<string, readonly string[]>>;

/**
 * The CEL environment every rule compiles in: the record's variables, typed; the named lists as the constant
 * `lists` (a field per list, `list<string>`; `lists` itself when made by celLists, so that its fields can be replaced); `inCidr(address, range or list of ranges)`, its ranges made once in
 * `cidrs`; `inList(value, list)`, membership as a set lookup.
 */
export function recordEnvironment(lists: NamedLists = {}, cidrs = new CidrMatchers()): Environment {
  const value = lists instanceof CelLists ? (lists as Record<string, readonly string[]>) : celLists(lists);
  const fields: Record<string, string> = {};
  for (const name of Object.keys(value)) fields[name] = 'list<string>';
  let env = new Environment({ limits: { maxAstNodes: 2000, maxDepth: 64 } })
    .registerType('Lists', { ctor: CelLists, fields })
    .registerConstant('lists', 'Lists', value)
    .registerFunction('inCidr(string, string): bool', (address: string, range: string) =>
      cidrs.of(range).contains(address),
    )
    .registerFunction('inCidr(string, list<string>): bool', (address: string, ranges: readonly string[]) =>
      cidrs.of(ranges).contains(address),
    )
    .registerFunction('inList(string, list<string>): bool', inList)
    .registerType('Source', {
      ctor: CelSource,
      fields: { ip: 'string', service: 'string', principal: 'string', mtls: 'bool' },
    })
    .registerType('User', {
      ctor: CelUser,
      fields: { sub: 'string', clientId: 'string', sessionId: 'string', authOutcome: 'string', tokenHash: 'string' },
    })
    .registerType('Sensor', { ctor: CelSensor, fields: { kind: 'string', id: 'string' } });
  for (const [name, type] of Object.entries(VARIABLE_TYPES)) env = env.registerVariable(name, type);
  return env;
}

const NO_PARAMS: Readonly<Record<string, never>> = Object.freeze({});
const NO_SOURCE = new CelSource('', '', '', false);
const NO_USER = new CelUser('', '', '', '', '');
const NO_SENSOR = new CelSensor('', '');

/**
 * the variables a set of conditions names: a variable is read only by its name, so a word of the text that is a
 * variable's name is the over-approximation that misses none (a name inside a string literal costs only its making)
 */
export function variablesNamed(conditions: readonly string[]): Set<string> {
  const named = new Set<string>();
  for (const name of Object.keys(VARIABLE_TYPES))
    if (conditions.some((c) => new RegExp(`\\b${name}\\b`).test(c))) named.add(name);
  return named;
}

/**
 * The maker of a record's variables for conditions that name `named`: those no condition names are left at an empty
 * value instead of read from the record (a record's nested objects vary in shape, so reading them costs more than the
 * rest: ~0.4 µs a record for source and user). Every field is set all the same (one object shape).
 */
export function variablesMaker(named: ReadonlySet<string>): (r: ApiCallRecord, endpoint: string) => RecordVariables {
  const source = named.has('source');
  const user = named.has('user');
  const sensor = named.has('sensor');
  const reqBytes = named.has('reqBytes');
  const respBytes = named.has('respBytes');
  return (r, endpoint) => {
    const s = r.source;
    const u = r.user;
    return {
      method: r.method,
      service: r.service,
      host: r.host,
      path: r.path,
      route: routeOf(endpoint),
      endpoint,
      status: BigInt(r.status),
      durationMs: r.durationMs,
      reqBytes: reqBytes ? BigInt(r.reqBytes) : 0n,
      respBytes: respBytes ? BigInt(r.respBytes) : 0n,
      region: r.region ?? '',
      source: source ? new CelSource(s.ip ?? '', s.service ?? '', s.principal ?? '', s.mtls === true) : NO_SOURCE,
      user:
        user && u
          ? new CelUser(u.sub ?? '', u.clientId ?? '', u.sessionId ?? '', u.authOutcome ?? '', u.tokenHash ?? '')
          : NO_USER,
      sensor: sensor ? new CelSensor(r.sensor.kind, r.sensor.id) : NO_SENSOR,
      params: r.params ?? NO_PARAMS,
      tags: r.tags ?? NO_PARAMS,
    };
  };
}

import type { ApiCallRecord } from '../../core/record.js';
import { routeOf } from '../shared/record-fields.js';

/** a group_by field compiled: how to read its value from a record (and its endpoint), "" when absent */
export interface GroupField {
  name: string;
  read(r: ApiCallRecord, endpoint: string): string;
  /** the alert subject type its value is, when it is one (`user.sub` → user) */
  subject?: 'user' | 'token' | 'session' | 'ip' | 'principal' | 'service';
  /** how a summary names a value: `user 42`, `route /admin/{id}` */
  label: string;
}

const FIELDS: Record<string, Omit<GroupField, 'name' | 'label'> & { label?: string }> = {
  'user.sub': { read: (r) => r.user?.sub ?? '', subject: 'user' },
  'user.tokenHash': { read: (r) => r.user?.tokenHash ?? '', subject: 'token' },
  'user.sessionId': { read: (r) => r.user?.sessionId ?? '', subject: 'session' },
  'user.clientId': { read: (r) => r.user?.clientId ?? '', label: 'client' },
  'source.ip': { read: (r) => r.source.ip ?? '', subject: 'ip' },
  'source.principal': { read: (r) => r.source.principal ?? '', subject: 'principal' },
  // the calling workload: the `service` subject of the other detectors (callerOf)
  'source.service': { read: (r) => r.source.service ?? '', subject: 'service', label: 'caller' },
  service: { read: (r) => r.service },
  host: { read: (r) => r.host },
  method: { read: (r) => r.method },
  path: { read: (r) => r.path },
  route: { read: (_r, endpoint) => routeOf(endpoint) },
  endpoint: { read: (_r, endpoint) => endpoint },
  status: { read: (r) => String(r.status) },
  region: { read: (r) => r.region ?? '' },
  'sensor.kind': { read: (r) => r.sensor.kind },
  'sensor.id': { read: (r) => r.sensor.id },
};

/** a params or tags entry as text; an own key only (`constructor` is not a parameter of every record) */
function entryText(map: Readonly<Record<string, unknown>> | undefined, key: string): string {
  if (map === undefined || !Object.hasOwn(map, key)) return '';
  const v = map[key];
  return v === undefined || v === null ? '' : String(v);
}

/** the group_by fields a rule may name: those above, `params.<name>` and `tags.<name>` */
export const GROUP_FIELD_NAMES = [...Object.keys(FIELDS), 'params.<name>', 'tags.<name>'];

/** a group_by field by name, or undefined when there is no such field */
export function groupField(name: string): GroupField | undefined {
  const known = FIELDS[name];
  if (known) return { name, label: known.label ?? known.subject ?? name, ...known };
  for (const map of ['params', 'tags'] as const) {
    if (!name.startsWith(`${map}.`) || name.length === map.length + 1) continue;
    const key = name.slice(map.length + 1);
    return { name, label: name, read: (r) => entryText(r[map], key) };
  }
  return undefined;
}

import type { Alert, Severity } from '../../core/alert.js';

/** OCSF 1.1 Detection Finding (class 2004, category 2 Findings) for one alert change. */
export interface OcsfDetectionFinding {
  class_uid: 2004;
  class_name: 'Detection Finding';
  category_uid: 2;
  category_name: 'Findings';
  activity_id: 1 | 2 | 3;
  activity_name: 'Create' | 'Update' | 'Close';
  type_uid: number;
  severity_id: number;
  severity: string;
  status_id: number;
  status: string;
  time: number;
  message: string;
  metadata: { version: string; product: { name: string; vendor_name: string; version: string }; uid: string };
  finding_info: {
    uid: string;
    title: string;
    desc: string;
    types: string[];
    created_time: number;
    first_seen_time: number;
    last_seen_time: number;
    modified_time: number;
  };
  resources: { name: string; type: string; uid?: string }[];
  evidences: Record<string, unknown>[];
  observables?: { name: string; type_id: number; value: string }[];
  unmapped: Record<string, unknown>;
}

const SEVERITY_ID: Record<Severity, number> = { info: 1, low: 2, medium: 3, high: 4, critical: 5 };
const STATUS: Record<Alert['state'], [number, string]> = {
  open: [1, 'New'],
  acknowledged: [2, 'In Progress'],
  resolved: [4, 'Resolved'],
};
/** OCSF observable type ids: IP Address 2, User Name 4, Other 99 */
const OBSERVABLE_TYPE: Record<string, number> = { ip: 2, user: 4 };

export function toOcsf(a: Alert, version = '0.1.0'): OcsfDetectionFinding {
  const activity: 1 | 2 | 3 = a.state === 'resolved' ? 3 : a.count > 1 || a.state === 'acknowledged' ? 2 : 1;
  const [statusId, status] = STATUS[a.state];
  const [method, ...routeParts] = (a.endpoint ?? '').split(' ');
  const route = routeParts.join(' ');
  const api: Record<string, unknown> = {
    operation: a.endpoint ?? a.kind,
    service: { name: a.service },
    ...(a.endpoint ? { request: { uid: a.evidence.recordIds[0] ?? a.id } } : {}),
  };
  const evidence: Record<string, unknown> = {
    api,
    ...(a.endpoint ? { http_request: { http_method: method, url: { path: route } } } : {}),
    ...(a.subject?.type === 'ip' ? { src_endpoint: { ip: a.subject.value } } : {}),
    ...(a.subject?.type === 'user' ? { actor: { user: { uid: a.subject.value } } } : {}),
    data: { record_ids: a.evidence.recordIds, metrics: a.evidence.metrics },
  };
  return {
    class_uid: 2004,
    class_name: 'Detection Finding',
    category_uid: 2,
    category_name: 'Findings',
    activity_id: activity,
    activity_name: activity === 1 ? 'Create' : activity === 2 ? 'Update' : 'Close',
    type_uid: 2004 * 100 + activity,
    severity_id: SEVERITY_ID[a.severity],
    severity: a.severity[0].toUpperCase() + a.severity.slice(1),
    status_id: statusId,
    status,
    time: a.updatedAt,
    message: a.summary,
    metadata: {
      version: '1.1.0',
      product: { name: 'meshward', vendor_name: 'meshward', version },
      uid: `${a.id}:${a.count}:${a.state}`,
    },
    finding_info: {
      uid: a.id,
      title: `${a.kind.replace(/_/g, ' ')} on ${a.service}${a.endpoint ? ` ${a.endpoint}` : ''}`,
      desc: [a.summary, a.expected ? `expected ${a.expected}` : '', a.observed ? `observed ${a.observed}` : '']
        .filter(Boolean)
        .join('; '),
      types: [a.kind],
      created_time: a.firstSeen,
      first_seen_time: a.firstSeen,
      last_seen_time: a.lastSeen,
      modified_time: a.updatedAt,
    },
    resources: [
      { name: a.service, type: 'service' },
      ...(a.endpoint ? [{ name: a.endpoint, type: 'api_endpoint' }] : []),
    ],
    evidences: [evidence],
    ...(a.subject
      ? {
          observables: [
            {
              name: `subject.${a.subject.type}`,
              type_id: OBSERVABLE_TYPE[a.subject.type] ?? 99,
              value: a.subject.value,
            },
          ],
        }
      : {}),
    unmapped: { meshward_kind: a.kind, count: a.count, labels: a.labels ?? {} },
  };
}

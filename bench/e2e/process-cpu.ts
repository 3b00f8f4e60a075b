import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time (user + system) by pipeline role, read from /proc for this process's descendants. On a shared machine the
 * CPU a role spends per record moves much less than its throughput does. Linux only; elsewhere the snapshot is empty.
 */

export const ROLES = ['bench', 'collector', 'kafka', 'correlators', 'api', 'redis'] as const;
export type Role = (typeof ROLES)[number];
export type CpuSnapshot = Map<Role, number>;

/** clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux) */
const TICK_MS = 10;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function cpuMsOf(pid: number): number | undefined {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // fields after "(comm)": state is field 3, utime field 14, stime field 15
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

function descendants(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    for (const c of (read(`/proc/${pid}/task/${t}/children`) ?? '').split(' ').filter(Boolean)) {
      out.push(Number(c), ...descendants(Number(c)));
    }
  }
  return out;
}

function roleOf(pid: number): Role | undefined {
  const args = (read(`/proc/${pid}/cmdline`) ?? '').split('\0');
  if (args[0] === 'sh') return undefined; // the Redis wrapper script names redis-server too
  if (args.some((a) => a.endsWith('/kafka-mock'))) return 'kafka';
  if (args[0]?.includes('redis-server')) return 'redis';
  const cli = args.findIndex((a) => a.endsWith('/cli/main.js'));
  if (cli < 0) return undefined;
  const role = args[cli + 1];
  if (role === 'correlator') return 'correlators';
  return role === 'collector' || role === 'api' ? role : undefined;
}

export function cpuSnapshot(): CpuSnapshot {
  const out: CpuSnapshot = new Map();
  const self = process.cpuUsage();
  out.set('bench', (self.user + self.system) / 1000);
  for (const pid of descendants(process.pid)) {
    const role = roleOf(pid);
    const ms = role && cpuMsOf(pid);
    if (role && ms !== undefined) out.set(role, (out.get(role) ?? 0) + ms);
  }
  return out;
}

/** CPU ms per 1,000 records between two snapshots, by role (NaN where a role was not running) */
export function cpuPer1k(before: CpuSnapshot, after: CpuSnapshot, records: number): Record<Role, number> {
  const out = {} as Record<Role, number>;
  for (const r of ROLES) {
    const a = after.get(r);
    const b = before.get(r);
    out[r] = a === undefined || b === undefined ? Number.NaN : ((a - b) / records) * 1000;
  }
  return out;
}

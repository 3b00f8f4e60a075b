import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { ApiDescription } from '../../pipeline/association/features.js';
import { mwError } from '../../pipeline/core/errors.js';

/** one line of apis-guru.jsonl(.gz), see /work/shared/eval/apis-guru/README.md */
export interface GuruApi {
  id: string;
  provider: string;
  service: string | null;
  title?: string;
  description?: string;
  servers?: string[];
  categories: string[];
  tags?: string[];
  endpoints?: {
    method: string;
    path: string;
    params?: string[];
    bodyFields?: string[];
    tags?: string[];
    summary?: string;
  }[];
}

export interface GuruData {
  apis: GuruApi[];
  testWithin: Set<string>;
  testNewProvider: Set<string>;
}

/** `<repo>/../shared/eval/apis-guru`, found from this file's place in the source tree or in dist/ */
export function defaultDataDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return resolve(dir, '..', 'shared', 'eval', 'apis-guru');
    dir = dirname(dir);
  }
  return resolve(process.cwd(), '..', 'shared', 'eval', 'apis-guru');
}

export function parseGuruLines(text: string): GuruApi[] {
  const out: GuruApi[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let v: GuruApi;
    try {
      v = JSON.parse(line) as GuruApi;
    } catch {
      throw mwError('CATALOG_INVALID', `apis-guru line ${i + 1}: not JSON`);
    }
    if (typeof v?.id !== 'string' || !Array.isArray(v.categories) || typeof v.categories[0] !== 'string') {
      throw mwError('CATALOG_INVALID', `apis-guru line ${i + 1}: needs id and categories[0]`);
    }
    out.push(v);
  });
  return out;
}

export function loadGuru(dir: string): GuruData {
  const gz = join(dir, 'apis-guru.jsonl.gz');
  const plain = join(dir, 'apis-guru.jsonl');
  const file = existsSync(gz) ? gz : existsSync(plain) ? plain : null;
  if (!file) {
    throw mwError(
      'NOT_FOUND',
      `APIs-guru evaluation data not found in ${dir} (expected apis-guru.jsonl.gz); pass --data <dir> or place it at <repo>/../shared/eval/apis-guru`,
    );
  }
  const raw = readFileSync(file);
  const apis = parseGuruLines((file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8'));
  const ids = (name: string) =>
    existsSync(join(dir, name))
      ? new Set(
          readFileSync(join(dir, name), 'utf8')
            .split('\n')
            .map((s) => s.trim())
            .filter(Boolean),
        )
      : new Set<string>();
  return { apis, testWithin: ids('test-ids-within.txt'), testNewProvider: ids('test-ids-new-provider.txt') };
}

/** the attributes the association model sees for one definition (the label is never part of it) */
export function guruToDescription(a: GuruApi): ApiDescription {
  const eps = a.endpoints ?? [];
  const tags = [...(a.tags ?? [])];
  const params: string[] = [];
  const summaries: string[] = [];
  const tagSeen = new Set(tags);
  for (const e of eps) {
    for (const t of e.tags ?? []) {
      if (!tagSeen.has(t)) {
        tagSeen.add(t);
        tags.push(t);
      }
    }
    params.push(...(e.params ?? []), ...(e.bodyFields ?? []));
    if (e.summary) summaries.push(e.summary);
  }
  return {
    name: a.title,
    description: a.description,
    hosts: [...(a.servers ?? []), a.provider],
    service: a.service ?? undefined,
    tags,
    paths: eps.map((e) => e.path),
    params,
    summaries,
  };
}

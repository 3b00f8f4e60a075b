/**
 * The rows encoding of a record batch (`Content-Type: application/vnd.meshward.rows+json`), which sensors on a hot path
 * send instead of an array of record objects: about half the bytes and half the serialising cost, since key names and
 * the sensor's constant fields are written once per batch instead of once per record.
 *
 * ```json
 * {"fields": ["id", "ts", "source.ip", "user.sub"], "common": {"v": 1, "sensor": {"kind": "fastify", "id": "gw-1"}},
 *  "rows": [["01J…", 1732950000000, "10.0.0.1", null], …]}
 * ```
 *
 * Each row becomes one record: `common`'s fields, then each field of the row that is not null (a dotted field sets a
 * property of an object field, created when its first property is set). A batch whose envelope is malformed becomes one
 * invalid item and a row of the wrong shape stays as it is, so the collector rejects them with a reason and keeps them
 * in the dead-letter topic like any other invalid record.
 */
export const ROWS_CONTENT_TYPE = 'application/vnd.meshward.rows+json';

/** a field: a property name, or an object field's property (one dot); no names that reach an object's prototype */
const FIELD = /^[A-Za-z][A-Za-z0-9]{0,63}(\.[A-Za-z][A-Za-z0-9]{0,63})?$/;
const RESERVED = new Set(['constructor', 'prototype']);
const MAX_FIELDS = 64;

/** a field list compiled once per batch: the property, or the object field and its property */
type Path = { key: string; child: string | undefined };

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function compileFields(fields: unknown): Path[] | undefined {
  if (!Array.isArray(fields) || fields.length === 0 || fields.length > MAX_FIELDS) return undefined;
  const paths: Path[] = [];
  for (const f of fields) {
    if (typeof f !== 'string' || !FIELD.test(f)) return undefined;
    const [key, child] = f.split('.');
    if (RESERVED.has(key) || (child !== undefined && RESERVED.has(child))) return undefined;
    paths.push({ key, child });
  }
  return paths;
}

function validCommon(common: unknown): common is Record<string, unknown> {
  if (!isPlainObject(common)) return false;
  return Object.keys(common).every((k) => FIELD.test(k) && !k.includes('.') && !RESERVED.has(k));
}

function toRecord(paths: readonly Path[], common: Record<string, unknown> | undefined, row: readonly unknown[]) {
  const record: Record<string, unknown> = {};
  if (common) {
    // a copy of each object field, so records never share (and later edits never leak between) them
    for (const k of Object.keys(common)) record[k] = isPlainObject(common[k]) ? { ...common[k] } : common[k];
  }
  for (let i = 0; i < paths.length; i++) {
    const v = row[i];
    if (v === null || v === undefined) continue;
    const { key, child } = paths[i];
    if (child === undefined) {
      record[key] = v;
      continue;
    }
    let parent = record[key];
    if (!isPlainObject(parent)) {
      parent = {};
      record[key] = parent;
    }
    (parent as Record<string, unknown>)[child] = v;
  }
  return record;
}

/**
 * A decoder of rows laid out by `fields` into records (a sensor building records for an in-process sink uses it too);
 * throws for an invalid field list.
 */
export function rowDecoder(
  fields: readonly string[],
): (common: Record<string, unknown> | undefined, row: readonly unknown[]) => Record<string, unknown> {
  const paths = compileFields(fields);
  if (!paths) throw new Error(`invalid row fields: ${JSON.stringify(fields).slice(0, 200)}`);
  return (common, row) => toRecord(paths, common, row);
}

/** the items of a parsed rows document, for the collector's ingest (see the module comment for malformed input) */
export function decodeRows(doc: unknown): unknown[] {
  if (!isPlainObject(doc)) return [doc];
  const paths = compileFields(doc.fields);
  const common = doc.common;
  if (!paths || !Array.isArray(doc.rows) || (common !== undefined && !validCommon(common))) return [doc];
  return doc.rows.map((row: unknown) =>
    Array.isArray(row) && row.length === paths.length ? toRecord(paths, common, row) : row,
  );
}

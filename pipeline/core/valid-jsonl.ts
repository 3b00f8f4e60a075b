import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { TSchema } from '@sinclair/typebox';
import type { TypeCheck } from '@sinclair/typebox/compiler';
import { unreadableFile } from './failure-line.js';

/** values that were not values of the schema: how many, and the first of them named */
export interface JsonlRejections {
  rejected: number;
  firstRejection?: string;
}

/** whether `value` passes `check`; if not, it is counted in `rejections` (the first named: `line 7: /ts: Expected number`) */
export function admitted<T extends TSchema>(
  check: TypeCheck<T>,
  value: unknown,
  where: string,
  what: string,
  rejections: JsonlRejections,
): value is T['static'] {
  if (check.Check(value)) return true;
  rejections.rejected++;
  const e = check.Errors(value).First();
  rejections.firstRejection ??= `${where}: ${e ? `${e.path || '/'}: ${e.message}` : `not ${what}`}`;
  return false;
}

/**
 * The values of JSONL lines that pass `check`, in order; a line that is not JSON or not such a value is counted in
 * `rejections` (the first named), never fatal. Blank lines are skipped. `prepare`: what each parsed line becomes
 * before the check (the collector's normalisation, e.g. boundRecord)
 */
export async function* validLines<T extends TSchema>(
  lines: AsyncIterable<string> | Iterable<string>,
  check: TypeCheck<T>,
  what: string,
  rejections: JsonlRejections,
  prepare?: (value: unknown) => unknown,
): AsyncGenerator<T['static']> {
  let n = 0;
  for await (const line of lines) {
    n++;
    if (!line.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      rejections.rejected++;
      rejections.firstRejection ??= `line ${n}: not JSON (${(err as Error).message})`;
      continue;
    }
    if (prepare) value = prepare(value);
    if (admitted(check, value, `line ${n}`, what, rejections)) yield value;
  }
}

/** validLines of a JSONL file, streamed; a file that cannot be read is MW_ERR_FILE_UNREADABLE naming it */
export async function* validJsonl<T extends TSchema>(
  path: string,
  check: TypeCheck<T>,
  what: string,
  rejections: JsonlRejections,
  prepare?: (value: unknown) => unknown,
): AsyncGenerator<T['static']> {
  const lines = createInterface({
    input: createReadStream(path, { encoding: 'utf8' }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  try {
    yield* validLines(lines, check, what, rejections, prepare);
  } catch (err) {
    // the stream's errors (missing, a folder, not allowed); a bad line is counted above, never thrown
    throw (err as NodeJS.ErrnoException).syscall ? unreadableFile(path, err) : err;
  }
}

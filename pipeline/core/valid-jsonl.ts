import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { TSchema } from '@sinclair/typebox';
import type { TypeCheck } from '@sinclair/typebox/compiler';

/** lines of a JSONL file that were not values of the schema: how many, and the first of them named */
export interface JsonlRejections {
  rejected: number;
  firstRejection?: string;
}

/**
 * The values of a JSONL file that pass `check`, in file order; a line that is not JSON or not such a value is counted
 * in `rejections` (the first named, `line 7: /ts: Expected number`), never fatal. Blank lines are skipped
 */
export async function* validJsonl<T extends TSchema>(
  path: string,
  check: TypeCheck<T>,
  what: string,
  rejections: JsonlRejections,
): AsyncGenerator<T['static']> {
  const lines = createInterface({
    input: createReadStream(path, { encoding: 'utf8' }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
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
    if (!check.Check(value)) {
      rejections.rejected++;
      const e = check.Errors(value).First();
      rejections.firstRejection ??= `line ${n}: ${e ? `${e.path || '/'}: ${e.message}` : `not ${what}`}`;
      continue;
    }
    yield value;
  }
}

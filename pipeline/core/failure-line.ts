import { type ErrorName, MeshwardError, mwError } from './errors.js';

type SystemError = NodeJS.ErrnoException & { address?: string; port?: number };

/** the system calls of a file that failed while reading it (an open for writing fails at the writer, named there) */
const READING = new Set(['open', 'read', 'stat', 'lstat', 'scandir', 'opendir', 'access']);

/** a file that could not be read (missing, a folder, not allowed), as `code: cannot read <path>: <what Node said>` */
export const unreadableFile = (path: string, err: unknown, name: ErrorName = 'FILE_UNREADABLE'): MeshwardError =>
  mwError(name, `cannot read ${path}: ${(err as Error).message}`, undefined, err);

/** a file that could not be written (its folder missing, not allowed, the disk full), named the same way */
export const unwritableFile = (path: string, err: unknown): MeshwardError =>
  mwError('FILE_UNWRITABLE', `cannot write ${path}: ${(err as Error).message}`, undefined, err);

/**
 * A Node system error as the catalogue error that says what to fix: a listener that could not take its address (in
 * use, not allowed, not on this host) and a file that cannot be read, named by its path (`files`: the code of such a
 * file, CONFIG_INVALID at start, where every file is one the config names). Undefined for any other error.
 */
export function systemProblem(err: unknown, files: ErrorName = 'FILE_UNREADABLE'): MeshwardError | undefined {
  const e = err as SystemError;
  if (e?.syscall === 'listen' || e?.syscall === 'bind') {
    const where = e.port === undefined ? (e.address ?? '') : `${e.address}:${e.port}`;
    return mwError('CONFIG_INVALID', `cannot listen on ${where}: ${e.message}`);
  }
  if (e?.path && e.syscall && READING.has(e.syscall)) return unreadableFile(e.path, e, files);
  return undefined;
}

/**
 * The one line a meshward command that failed writes on stderr: `meshward: MW_ERR_…: <message>`. A catalogue error
 * as it is; a system error as systemProblem words it; an argument an action refused (commander's
 * InvalidArgumentError) as MW_ERR_BAD_REQUEST; anything else as MW_ERR_INTERNAL with its message. Never a stack
 * trace, never more than one line (a message spanning lines is joined).
 */
export function failureLine(err: unknown, files?: ErrorName): string {
  const e =
    systemProblem(err, files) ??
    (err instanceof MeshwardError
      ? err
      : (err as { code?: unknown })?.code === 'commander.invalidArgument'
        ? mwError('BAD_REQUEST', (err as Error).message)
        : mwError('INTERNAL', err instanceof Error ? err.message : String(err)));
  return `meshward: ${e.code}: ${e.message.replace(/\s*\n\s*/g, ' ').trim()}`;
}

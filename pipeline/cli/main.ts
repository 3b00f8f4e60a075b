#!/usr/bin/env node
import { failureLine } from '../core/failure-line.js';
import { meshwardProgram } from './program.js';

// a reader that stops reading (`meshward alerts show <id> | head`) ends the command quietly, as Unix tools end; any
// other failure to write stdout stays a crash
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

// a command that fails (a refusal of the API, a file it cannot read or write, a bad argument) says why in one line
// with its catalogue code on stderr, and exits 2; usage errors are commander's (exit 1)
meshwardProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(`${failureLine(err)}\n`);
    process.exit(2);
  });

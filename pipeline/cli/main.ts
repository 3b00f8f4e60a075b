#!/usr/bin/env node
import { Command } from 'commander';
import '../detectors/all.js';
import { registerAnalystCommands } from './analyst-commands.js';
import { registerOfflineCommands } from './offline-commands.js';
import { registerServiceCommands } from './service-commands.js';

const program = new Command();
program
  .name('meshward')
  .description(
    'API sensor and anomaly pipeline: sensors at existing gateways, a correlator, association, policy actions',
  )
  .version('0.1.0')
  .showHelpAfterError();

registerServiceCommands(program);
registerOfflineCommands(program);
registerAnalystCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  const e = err as { code?: string; message?: string };
  process.stderr.write(`meshward: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}\n`);
  process.exit(2);
});

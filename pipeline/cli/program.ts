import { Command } from 'commander';
import '../detectors/all.js';
import { registerAnalystCommands } from './analyst-commands.js';
import { registerCheckCommand } from './check-command.js';
import { registerOfflineCommands } from './offline-commands.js';
import { registerRulesCommands } from './rules-commands.js';
import { registerServiceCommands } from './service-commands.js';

/** every `meshward` command, as the entry point (main.ts) runs them */
export function meshwardProgram(): Command {
  const program = new Command();
  program
    .name('meshward')
    .description(
      'API sensor and anomaly pipeline: sensors at existing gateways, a correlator, association, policy actions',
    )
    .version('0.1.0')
    .showHelpAfterError();
  registerServiceCommands(program);
  registerCheckCommand(program);
  registerOfflineCommands(program);
  registerRulesCommands(program);
  registerAnalystCommands(program);
  return program;
}

import type { Command } from 'commander';
import { registerAlertCommands } from './alert-commands.js';
import { type ExitCode, analystCli, type Out } from './analyst-cli.js';
import { registerDecisionCommands } from './decision-commands.js';
import { registerInventoryCommands } from './inventory-commands.js';
import { registerSensorCommands } from './sensor-commands.js';
import { registerSilenceCommands } from './silence-commands.js';

/**
 * `meshward alerts …`, `meshward decisions …`, `meshward silences …`, `meshward inventory …`, `meshward sensors`: the
 * analyst API from a terminal or a script, as the console uses it (the same roles apply). Tables by default, `--json`
 * for the API's answer as it is.
 */
export function registerAnalystCommands(
  program: Command,
  out: Out = (t) => process.stdout.write(t),
  exitCode?: ExitCode,
): void {
  const cli = analystCli(out, exitCode);
  registerAlertCommands(program, cli);
  registerDecisionCommands(program, cli);
  registerSilenceCommands(program, cli);
  registerInventoryCommands(program, cli);
  registerSensorCommands(program, cli);
}

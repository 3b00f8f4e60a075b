import { adapterConfigs } from '../../policy-actions/engine/adapter-registry.js';
import type { MeshwardConfig } from '../config/schema.js';
import { parseRootCauseConfig } from '../correlator/root-cause/config.js';
import { ERRORS, MeshwardError, mwError } from '../core/errors.js';
import { type CompiledDetectors, compileDetectors } from '../detectors/registry.js';
import { compileSinks } from '../sinks/sink-runner.js';
import { actionSettings } from './actions.js';
import { type ReceiverEntry, receiverConfigs } from './receivers.js';

const INVALID = `${ERRORS.CONFIG_INVALID.message}: `;

/** what the check compiled, handed to the roles so they do not read and compile it again */
export interface CheckedSections {
  /** the `receivers:` entries, each with what its check compiled (a bus receiver's mapping) */
  receivers: ReceiverEntry[];
  /** the detectors as compiled with their files read (a process that runs them): the correlator takes them as they are */
  detectors?: CompiledDetectors;
}

/**
 * The sections each role checks when it starts (detectors, sinks, receivers, root-cause folding, the actions
 * settings and adapters), checked before any role starts and named with the file: every process of a deployment refuses a bad
 * file at once (`/etc/meshward.yaml: detectors.enumeration.min_distinct: Expected integer`), not the one role that
 * reads the section, after the others started. `runsDetectors`: this process runs the detectors (their files are read).
 */
export function checkSections(
  config: MeshwardConfig,
  source: string,
  options: { runsDetectors?: boolean } = {},
): CheckedSections {
  try {
    // the detectors' files (custom_rules' list files) are read by the processes that run the detectors (a correlator,
    // `start`) and `meshward check` of them: a collector or an API need not have a threat feed mounted
    const detectors = compileDetectors(config.detectors, { readFiles: options.runsDetectors === true });
    compileSinks(config.sinks);
    const receivers = receiverConfigs(config.receivers);
    parseRootCauseConfig(config.correlator.root_cause ?? {});
    if (config.actions) {
      actionSettings(config.actions);
      adapterConfigs(config.actions);
    }
    return { receivers, ...(options.runsDetectors ? { detectors } : {}) };
  } catch (err) {
    if (!(err instanceof MeshwardError) || err.code !== ERRORS.CONFIG_INVALID.code) throw err;
    const detail = err.message.startsWith(INVALID) ? err.message.slice(INVALID.length) : err.message;
    throw mwError('CONFIG_INVALID', `${source}: ${detail}`, err.details);
  }
}

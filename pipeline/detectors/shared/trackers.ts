import type { DetectorFactory } from '../detector.js';
import { credentialStuffingFactory } from '../credential-stuffing/factory.js';
import { dataLocalityFactory } from '../data-locality/factory.js';
import { dataVolumeFactory } from '../data-volume/factory.js';
import { enumerationFactory } from '../enumeration/factory.js';
import { fanOutFactory } from '../fan-out/factory.js';
import { newCallerFactory } from '../new-caller/factory.js';
import { paramProfileFactory } from '../param-profile/factory.js';
import { plaintextHopFactory } from '../plaintext-hop/factory.js';
import { tokenMismatchFactory } from '../token-mismatch/factory.js';
import { unauthenticatedAccessFactory } from '../unauthenticated-access/factory.js';

/** the ten API object-level risk trackers (the lead registers them in pipeline/detectors/registry.ts) */
export const TRACKER_FACTORIES: readonly DetectorFactory<unknown>[] = [
  paramProfileFactory,
  tokenMismatchFactory,
  enumerationFactory,
  credentialStuffingFactory,
  newCallerFactory,
  plaintextHopFactory,
  fanOutFactory,
  dataLocalityFactory,
  unauthenticatedAccessFactory,
  dataVolumeFactory,
] as DetectorFactory<unknown>[];

import { bruteForce, credentialStuffing } from './credential-attacks.js';
import { dataLocality } from './data-locality.js';
import { bulkDataAccess, excessiveCalls } from './data-volume.js';
import { enumeration } from './enumeration.js';
import { errorBurst } from './error-burst.js';
import { fanOut } from './fan-out.js';
import { latencySpike } from './latency-spike.js';
import { newCaller } from './new-caller.js';
import { paramAnomaly } from './param-anomaly.js';
import { plaintextHop } from './plaintext-hop.js';
import { tokenMismatch } from './token-mismatch.js';
import { trafficDrop, trafficSpike } from './traffic-change.js';
import type { Injector } from './types.js';
import { unauthenticatedAccess } from './unauthenticated-access.js';

export type { AnomalyRequest, Injector, TimeWindow } from './types.js';

/** every anomaly kind the simulator can inject, by kind */
export const INJECTORS: Record<string, Injector> = Object.fromEntries(
  [
    errorBurst,
    latencySpike,
    trafficDrop,
    trafficSpike,
    paramAnomaly,
    tokenMismatch,
    enumeration,
    credentialStuffing,
    bruteForce,
    newCaller,
    plaintextHop,
    fanOut,
    dataLocality,
    unauthenticatedAccess,
    bulkDataAccess,
    excessiveCalls,
  ].map((i) => [i.kind, i]),
);

export const METRIC_KINDS = ['error_burst', 'latency_spike', 'traffic_drop', 'traffic_spike'] as const;
export const TRACKER_KINDS = [
  'param_anomaly',
  'token_mismatch',
  'enumeration',
  'credential_stuffing',
  'brute_force',
  'new_caller',
  'plaintext_hop',
  'fan_out',
  'data_locality',
  'unauthenticated_access',
  'bulk_data_access',
  'excessive_calls',
] as const;
export const ALL_KINDS = [...METRIC_KINDS, ...TRACKER_KINDS];

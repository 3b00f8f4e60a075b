import type { DetectorFactory } from '../detector.js';
import { defaultsOf } from '../shared/detector-kit.js';
import { type CompiledCustomRules, compileRules } from './compile-rules.js';
import { type CustomRulesConfig, CustomRulesConfigSchema } from './config.js';
import { CustomRulesDetector, TYPE } from './custom-rules.js';

/** custom_rules: detections the operators write in CEL, compiled once when the config loads (prepare) */
export const customRulesFactory: DetectorFactory<CustomRulesConfig, CompiledCustomRules> = {
  type: TYPE,
  configSchema: CustomRulesConfigSchema,
  defaultConfig: defaultsOf(CustomRulesConfigSchema),
  prepare: compileRules,
  create: (compiled) => new CustomRulesDetector(compiled),
};

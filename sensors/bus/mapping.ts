import { readFileSync } from 'node:fs';
import { mwError } from '../../pipeline/core/errors.js';
import { parseYamlBounded } from '../../pipeline/core/yaml.js';
import { loadConfig } from '../common/load-config.js';
import { type BusMapping, BusMappingSchema, type TopicMapping } from './config.js';

/** The mapping compiled for the hot path: request and reply topics looked up by name. */
export interface CompiledMapping {
  byRequestTopic: Map<string, TopicMapping>;
  /** reply topic → the request mappings answered there */
  byReplyTopic: Map<string, TopicMapping[]>;
  /** every topic the sensor subscribes to */
  topics: string[];
}

export function parseMapping(yamlText: string, where = 'mapping'): BusMapping {
  let doc: unknown;
  try {
    doc = parseYamlBounded(yamlText);
  } catch (err) {
    throw mwError('CONFIG_INVALID', `${where}: not valid YAML: ${(err as Error).message}`);
  }
  return loadConfig(BusMappingSchema, doc, where);
}

export function loadMappingFile(path: string): BusMapping {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw mwError('CONFIG_INVALID', `bus mapping file ${path}: ${(err as Error).message}`);
  }
  return parseMapping(text, path);
}

export function compileMapping(m: BusMapping): CompiledMapping {
  const byRequestTopic = new Map<string, TopicMapping>();
  const byReplyTopic = new Map<string, TopicMapping[]>();
  for (const t of m.topics) {
    if (byRequestTopic.has(t.topic)) throw mwError('CONFIG_INVALID', `bus mapping: topic ${t.topic} is mapped twice`);
    if (t.reply_topic === t.topic) {
      throw mwError('CONFIG_INVALID', `bus mapping: topic ${t.topic} cannot be its own reply_topic`);
    }
    byRequestTopic.set(t.topic, t);
  }
  for (const t of m.topics) {
    if (!t.reply_topic) continue;
    if (byRequestTopic.has(t.reply_topic)) {
      throw mwError('CONFIG_INVALID', `bus mapping: ${t.reply_topic} is both a request topic and a reply topic`);
    }
    const list = byReplyTopic.get(t.reply_topic) ?? [];
    list.push(t);
    byReplyTopic.set(t.reply_topic, list);
  }
  return { byRequestTopic, byReplyTopic, topics: [...byRequestTopic.keys(), ...byReplyTopic.keys()] };
}

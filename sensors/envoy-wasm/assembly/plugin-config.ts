import { bytesOf } from './bytes';
import { J_ARR, J_NUM, J_OBJ, J_STR, JsonReader, JsonValue } from './json-reader';

// The plugin configuration (Envoy `configuration`, Istio `pluginConfig`). Its twin for Node (schema, defaults, docs)
// is ../config.ts; the two must accept and reject the same documents (config.test.ts checks both).

export const DEFAULT_REDACT_PARAMS: string[] = [
  'access_token',
  'id_token',
  'refresh_token',
  'token',
  'api_key',
  'apikey',
  'key',
  'password',
  'passwd',
  'secret',
  'client_secret',
  'code',
  'sig',
  'signature',
  'session',
  'auth',
];

const KNOWN_KEYS: string[] = [
  'collector_cluster',
  'collector_authority',
  'collector_path',
  'sensor_token',
  'sensor_id',
  'service',
  'batch_size',
  'tick_ms',
  'max_in_flight',
  'max_buffer',
  'sample_rate',
  'token_hash_key',
  'keep_params',
  'redact_params',
  'tag_headers',
  'http_timeout_ms',
];

export class PluginConfig {
  collectorCluster: string = 'meshward_collector';
  collectorAuthority: string = 'meshward-collector';
  collectorPath: string = '/v1/records';
  sensorToken: string = '';
  sensorId: string = '';
  service: string = '';
  batchSize: i32 = 100;
  tickMs: i32 = 1000;
  maxInFlight: i32 = 2;
  maxBuffer: i32 = 1000;
  sampleRate: f64 = 1.0;
  tokenHashKey: string = '';
  keepParams: Array<Uint8Array> = [];
  redactParams: Array<Uint8Array> = [];
  tagHeaders: Array<Uint8Array> = [];
  httpTimeoutMs: i32 = 5000;
}

class Parsed {
  config: PluginConfig | null = null;
  error: string = '';
}

function stringField(doc: JsonValue, key: string, fallback: string, minLen: i32, maxLen: i32, out: Parsed): string {
  const v = doc.get(key);
  if (v === null) {
    if (minLen > 0 && fallback.length < minLen) out.error = key + ' is required';
    return fallback;
  }
  if (v.kind != J_STR) {
    out.error = key + ' must be a string';
    return fallback;
  }
  if (v.s.length < minLen || v.s.length > maxLen) {
    out.error = key + ' must have ' + minLen.toString() + ' to ' + maxLen.toString() + ' characters';
    return fallback;
  }
  return v.s;
}

function intField(doc: JsonValue, key: string, fallback: i32, lo: i32, hi: i32, out: Parsed): i32 {
  const v = doc.get(key);
  if (v === null) return fallback;
  if (v.kind != J_NUM || v.n != Math.floor(v.n) || v.n < <f64>lo || v.n > <f64>hi) {
    out.error = key + ' must be an integer from ' + lo.toString() + ' to ' + hi.toString();
    return fallback;
  }
  return <i32>v.n;
}

function listField(doc: JsonValue, key: string, fallback: string[], lower: bool, out: Parsed): Array<Uint8Array> {
  const v = doc.get(key);
  let names = fallback;
  if (v !== null) {
    if (v.kind != J_ARR || v.items.length > 64) {
      out.error = key + ' must be a list of at most 64 strings';
      return [];
    }
    names = [];
    for (let i = 0; i < v.items.length; i++) {
      const item = v.items[i];
      if (item.kind != J_STR || item.s.length < 1 || item.s.length > 256) {
        out.error = key + ' must hold non-empty strings of at most 256 characters';
        return [];
      }
      names.push(item.s);
    }
  }
  const result: Array<Uint8Array> = [];
  for (let i = 0; i < names.length; i++) result.push(bytesOf(lower ? names[i].toLowerCase() : names[i]));
  return result;
}

function printableAscii(s: string): bool {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

/** parses and checks the plugin configuration; returns the config or an error message for the proxy log */
export function parsePluginConfig(bytes: Uint8Array): Parsed {
  const out = new Parsed();
  const reader = new JsonReader(bytes);
  const doc = reader.parse();
  if (doc === null) {
    out.error = 'configuration is not valid JSON: ' + reader.error;
    return out;
  }
  if (doc.kind != J_OBJ) {
    out.error = 'configuration must be a JSON object';
    return out;
  }
  for (let i = 0; i < doc.keys.length; i++) {
    if (!KNOWN_KEYS.includes(doc.keys[i])) {
      out.error = 'unknown key ' + doc.keys[i];
      return out;
    }
  }
  const c = new PluginConfig();
  c.collectorCluster = stringField(doc, 'collector_cluster', c.collectorCluster, 1, 256, out);
  c.collectorAuthority = stringField(doc, 'collector_authority', c.collectorAuthority, 1, 256, out);
  c.collectorPath = stringField(doc, 'collector_path', c.collectorPath, 1, 256, out);
  c.sensorToken = stringField(doc, 'sensor_token', '', 1, 512, out);
  c.sensorId = stringField(doc, 'sensor_id', '', 0, 256, out);
  c.service = stringField(doc, 'service', '', 0, 256, out);
  c.tokenHashKey = stringField(doc, 'token_hash_key', '', 16, 256, out);
  c.batchSize = intField(doc, 'batch_size', c.batchSize, 1, 1000, out);
  c.tickMs = intField(doc, 'tick_ms', c.tickMs, 10, 600000, out);
  c.maxInFlight = intField(doc, 'max_in_flight', c.maxInFlight, 1, 64, out);
  c.maxBuffer = intField(doc, 'max_buffer', c.maxBuffer, 1, 100000, out);
  c.httpTimeoutMs = intField(doc, 'http_timeout_ms', c.httpTimeoutMs, 100, 60000, out);
  const rate = doc.get('sample_rate');
  if (rate !== null) {
    if (rate.kind != J_NUM || rate.n < 0 || rate.n > 1) out.error = 'sample_rate must be a number from 0 to 1';
    else c.sampleRate = rate.n;
  }
  c.keepParams = listField(doc, 'keep_params', [], false, out);
  c.redactParams = listField(doc, 'redact_params', DEFAULT_REDACT_PARAMS, true, out);
  c.tagHeaders = listField(doc, 'tag_headers', ['x-request-id'], true, out);
  if (out.error.length > 0) return out;
  if (!printableAscii(c.sensorToken)) out.error = 'sensor_token must be printable ASCII without spaces';
  else if (c.collectorPath.charCodeAt(0) != 47) out.error = 'collector_path must start with /';
  else if (c.maxBuffer < c.batchSize) out.error = 'max_buffer must be at least batch_size';
  if (out.error.length == 0) out.config = c;
  return out;
}

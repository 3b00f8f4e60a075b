import type { SinkFactory } from '../sink.js';
import { CefSyslogSink } from './cef-syslog-sink.js';
import { CefSyslogSinkConfig } from './config.js';

export const cefSyslogSinkFactory: SinkFactory<CefSyslogSinkConfig> = {
  type: 'cef_syslog',
  configSchema: CefSyslogSinkConfig,
  defaultConfig: {
    host: '127.0.0.1',
    port: 514,
    protocol: 'udp',
    facility: 10,
    app_name: 'meshward',
    timeout_ms: 5000,
  },
  create: (config) => new CefSyslogSink(config),
};

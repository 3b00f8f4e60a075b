import { mwError } from '../../core/errors.js';
import { type SyslogReceiverConfig, SyslogReceiverConfigSchema, defaultSyslogReceiverConfig } from './config.js';
import { SyslogReceiver, type SyslogReceiverDeps } from './syslog-receiver.js';

/** syslog receiver: JSON access logs of nginx / HAProxy over UDP and TCP → RecordIngest */
export const syslogReceiverFactory = {
  type: 'syslog',
  configSchema: SyslogReceiverConfigSchema,
  defaultConfig: defaultSyslogReceiverConfig,
  create(config: SyslogReceiverConfig, deps: SyslogReceiverDeps): SyslogReceiver {
    if (!config.listen_udp && !config.listen_tcp) {
      throw mwError('CONFIG_INVALID', 'syslog receiver: set listen_udp, listen_tcp or both');
    }
    return new SyslogReceiver(config, deps);
  },
};

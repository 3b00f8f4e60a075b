import { createSocket } from 'node:dgram';
import { hostname } from 'node:os';
import { connect, type Socket } from 'node:net';
import type { Alert, Severity } from '../../core/alert.js';
import { mwError } from '../../core/errors.js';
import { toCef } from '../formats/cef.js';
import type { AlertSink } from '../sink.js';
import type { CefSyslogSinkConfig } from './config.js';

/** syslog severities: critical 2, error 3, warning 4, notice 5, informational 6 */
const SYSLOG_SEVERITY: Record<Severity, number> = { critical: 2, high: 3, medium: 4, low: 5, info: 6 };

/** one RFC 5424 syslog message carrying the CEF line */
export function cefSyslogLine(a: Alert, facility: number, appName: string, host = hostname()): string {
  const pri = facility * 8 + SYSLOG_SEVERITY[a.severity];
  return `<${pri}>1 ${new Date(a.updatedAt).toISOString()} ${host} ${appName} - alert - ${toCef(a)}`;
}

/** ships alerts as CEF over syslog (UDP datagrams, or TCP with octet counting) */
export class CefSyslogSink implements AlertSink {
  readonly type = 'cef_syslog';
  private tcp?: Socket;

  constructor(private readonly config: CefSyslogSinkConfig) {}

  async send(alerts: Alert[]): Promise<void> {
    const lines = alerts.map((a) => cefSyslogLine(a, this.config.facility, this.config.app_name));
    if (this.config.protocol === 'udp') await this.sendUdp(lines);
    else await this.sendTcp(lines);
  }

  private sendUdp(lines: string[]): Promise<void> {
    const sock = createSocket('udp4');
    return new Promise<void>((resolve, reject) => {
      let left = lines.length;
      if (left === 0) resolve();
      for (const l of lines) {
        sock.send(Buffer.from(l), this.config.port, this.config.host, (err) => {
          if (err) reject(mwError('SINK_FAILED', `syslog udp: ${err.message}`));
          else if (--left === 0) resolve();
        });
      }
    }).finally(() => sock.close());
  }

  private async connection(): Promise<Socket> {
    if (this.tcp && !this.tcp.destroyed) return this.tcp;
    const sock = connect({ host: this.config.host, port: this.config.port });
    sock.setTimeout(this.config.timeout_ms);
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', (e) => reject(mwError('SINK_FAILED', `syslog tcp: ${e.message}`)));
      sock.once('timeout', () => reject(mwError('SINK_FAILED', 'syslog tcp: connect timed out')));
    });
    sock.on('error', () => sock.destroy());
    sock.on('timeout', () => sock.destroy());
    this.tcp = sock;
    return sock;
  }

  private async sendTcp(lines: string[]): Promise<void> {
    const sock = await this.connection();
    const frame = lines.map((l) => `${Buffer.byteLength(l)} ${l}`).join('');
    await new Promise<void>((resolve, reject) =>
      sock.write(frame, (err) => (err ? reject(mwError('SINK_FAILED', `syslog tcp: ${err.message}`)) : resolve())),
    );
  }

  async close(): Promise<void> {
    this.tcp?.end();
    this.tcp = undefined;
  }
}

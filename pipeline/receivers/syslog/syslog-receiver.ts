import { type Socket as UdpSocket, createSocket } from 'node:dgram';
import { type Server, type Socket, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { BatchingShipper } from '../../../sensors/common/batching-shipper.js';
import { ingestTransport } from '../../../sensors/common/ingest-transport.js';
import type { RecordIngest } from '../../collector/ingest.js';
import { type Logger, silentLogger } from '../../core/logger.js';
import { counter } from '../../core/metrics.js';
import { mapAccessLog } from './access-log.js';
import { type SyslogReceiverConfig, parseListen } from './config.js';
import { parseSyslog } from './syslog-header.js';
import { TcpFramer } from './tcp-framer.js';

export interface SyslogReceiverDeps {
  ingest: RecordIngest;
  logger?: Logger;
  /** the key the receiver is declared under in the `receivers:` section (`syslog`, `syslog/edge`; default `syslog`) */
  key?: string;
}

export interface SyslogReceiverStats {
  messages: number;
  records: number;
  failures: Record<string, number>;
  connections: number;
  connectionsRefused: number;
  invalidUtf8: number;
  truncated: number;
  shipper: ReturnType<BatchingShipper['stats']>;
}

const messagesTotal = () =>
  counter('meshward_syslog_messages_total', 'syslog messages received', ['receiver', 'transport']);
const failuresTotal = () =>
  counter('meshward_syslog_parse_failures_total', 'syslog messages that gave no record, by reason', [
    'receiver',
    'reason',
  ]);
const refusedTotal = () =>
  counter('meshward_syslog_connections_refused_total', 'TCP connections refused (max_connections)', ['receiver']);

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Lenient = new TextDecoder('utf-8');

/**
 * Receives JSON access logs over syslog (UDP and TCP) from gateways that already log (nginx, HAProxy) and hands the
 * records to a RecordIngest through a bounded batching buffer. Nothing a sender does can crash it: every message
 * that gives no record is counted by reason.
 */
export class SyslogReceiver {
  private udp: UdpSocket | undefined;
  private tcp: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly shipper: BatchingShipper;
  private readonly log: Logger;
  private readonly failures: Record<string, number> = {};
  private readonly counts = { messages: 0, records: 0, connectionsRefused: 0, invalidUtf8: 0, truncated: 0 };
  private readonly metrics = { messages: messagesTotal(), failures: failuresTotal(), refused: refusedTotal() };
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly config: SyslogReceiverConfig,
    deps: SyslogReceiverDeps,
  ) {
    this.log = deps.logger ?? silentLogger;
    this.shipper = new BatchingShipper(
      {
        max_buffer: config.max_buffer,
        batch_size: config.batch_size,
        flush_interval_ms: config.flush_interval_ms,
        max_in_flight: 2,
        timeout_ms: 30_000,
        backoff_ms: 100,
        max_backoff_ms: 5_000,
      },
      ingestTransport(deps.ingest, { receiver: 'syslog', key: deps.key ?? 'syslog', sensorId: config.sensor_id }),
      { logger: this.log, sensorId: config.sensor_id },
    );
  }

  async start(): Promise<void> {
    if (this.config.listen_udp) {
      const { host, port } = parseListen(this.config.listen_udp);
      const udp = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: 4 * 1024 * 1024 });
      udp.on('message', (buf) => {
        if (buf.length > this.config.max_message_bytes) {
          this.metrics.messages.inc({ receiver: this.config.sensor_id, transport: 'udp' });
          this.counts.messages++;
          this.fail('too_large');
          return;
        }
        this.handle(buf, 'udp');
      });
      udp.on('error', (err) => this.log.error({ err: err.message }, 'syslog UDP socket error'));
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(port, host, () => {
          udp.off('error', reject);
          resolve();
        });
      });
      this.udp = udp;
    }
    if (this.config.listen_tcp) {
      const { host, port } = parseListen(this.config.listen_tcp);
      const tcp = createServer((sock) => this.accept(sock));
      tcp.maxConnections = this.config.max_connections;
      tcp.on('drop', () => {
        this.counts.connectionsRefused++;
        this.metrics.refused.inc({ receiver: this.config.sensor_id });
      });
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, host, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
      this.tcp = tcp;
    }
  }

  /** bound addresses (port 0 in config → the OS-chosen port) */
  addresses(): { udp?: AddressInfo; tcp?: AddressInfo } {
    return {
      udp: this.udp?.address(),
      tcp: (this.tcp?.address() as AddressInfo | null) ?? undefined,
    };
  }

  stats(): SyslogReceiverStats {
    return {
      ...this.counts,
      failures: { ...this.failures },
      connections: this.sockets.size,
      shipper: this.shipper.stats(),
    };
  }

  /** stop listening, close connections, hand over what is buffered; safe twice */
  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      const udp = this.udp;
      if (udp) await new Promise<void>((r) => udp.close(() => r()));
      for (const s of this.sockets) s.destroy();
      const tcp = this.tcp;
      if (tcp) await new Promise<void>((r) => tcp.close(() => r()));
      await this.shipper.shutdown();
    })();
    return this.stopping;
  }

  private accept(sock: Socket): void {
    this.sockets.add(sock);
    sock.setTimeout(this.config.idle_timeout_ms, () => sock.destroy());
    const framer = new TcpFramer(this.config.max_message_bytes, {
      onMessage: (msg) => this.handle(msg, 'tcp'),
      onIssue: (issue) => {
        this.counts.messages++;
        this.metrics.messages.inc({ receiver: this.config.sensor_id, transport: 'tcp' });
        this.fail(issue);
      },
    });
    sock.on('data', (chunk: Buffer) => {
      if (!framer.push(chunk)) sock.destroy();
    });
    sock.on('error', () => {}); // resets from senders are routine
    sock.on('close', () => {
      framer.end(); // a last message without its LF, or a frame cut short, is handled or counted, not dropped
      this.sockets.delete(sock);
    });
  }

  /** one syslog message; never throws */
  private handle(buf: Buffer, transport: 'udp' | 'tcp'): void {
    this.counts.messages++;
    this.metrics.messages.inc({ receiver: this.config.sensor_id, transport });
    try {
      let text: string;
      try {
        text = utf8.decode(buf);
      } catch {
        this.counts.invalidUtf8++;
        if (this.config.invalid_utf8 === 'reject') {
          this.fail('invalid_utf8');
          return;
        }
        text = utf8Lenient.decode(buf);
      }
      const h = parseSyslog(text.trimEnd());
      if (!h.ok) {
        this.fail(h.reason);
        return;
      }
      const r = mapAccessLog(h.value.msg, {
        format: this.config.format,
        sensorId: this.config.sensor_id,
        serviceFrom: this.config.service_from,
        serviceName: this.config.service_name,
        headerTs: h.value.ts,
      });
      if (!r.ok) {
        this.fail(r.reason);
        return;
      }
      if (r.truncated) this.counts.truncated++;
      this.counts.records++;
      this.shipper.push(r.record);
    } catch (err) {
      this.fail('internal');
      this.log.warn({ err: (err as Error).message }, 'syslog message handling failed');
    }
  }

  private fail(reason: string): void {
    this.failures[reason] = (this.failures[reason] ?? 0) + 1;
    this.metrics.failures.inc({ receiver: this.config.sensor_id, reason });
  }
}

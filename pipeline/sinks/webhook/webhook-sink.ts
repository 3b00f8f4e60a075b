import { createHmac } from 'node:crypto';
import type { Alert, Severity } from '../../core/alert.js';
import { readSecretFile } from '../../config/secret-file.js';
import { checkSharedSecret } from '../../config/shared-secret.js';
import { mwError } from '../../core/errors.js';
import { toOcsf } from '../formats/ocsf.js';
import type { AlertSink } from '../sink.js';
import type { WebhookSinkConfig } from './config.js';

const EMOJI: Record<Severity, string> = {
  info: ':information_source:',
  low: ':large_blue_circle:',
  medium: ':large_yellow_circle:',
  high: ':red_circle:',
  critical: ':rotating_light:',
};

export function slackMessage(a: Alert): Record<string, unknown> {
  const title = `${EMOJI[a.severity]} *${a.severity.toUpperCase()}* ${a.kind.replace(/_/g, ' ')} on \`${a.service}\`${a.endpoint ? ` \`${a.endpoint}\`` : ''} (${a.state})`;
  const lines = [
    a.summary,
    a.expected ? `expected: ${a.expected}` : '',
    a.subject ? `subject: ${a.subject.type} \`${a.subject.value}\`` : '',
    `alert \`${a.id}\` · fired ${a.count}×`,
  ].filter(Boolean);
  return {
    text: `${title}\n${a.summary}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: title } },
      { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } },
    ],
  };
}

/** POSTs each alert change to a webhook, in the configured format, signed when a secret is set */
export class WebhookSink implements AlertSink {
  readonly type = 'webhook';
  private readonly secret?: string;
  private readonly bearer?: string;

  /** `where`: the sink's key as the config writes it (`sinks.webhook/soc`), which its errors name */
  constructor(
    private readonly config: WebhookSinkConfig,
    where = 'sinks.webhook',
  ) {
    // the HMAC key the receiver checks signatures with: a shared secret, sized as every other one
    this.secret = config.secret_file
      ? checkSharedSecret(
          readSecretFile(config.secret_file, `${where}.secret_file`),
          `${where}.secret_file`,
          config.secret_file,
        )
      : undefined;
    this.bearer = config.bearer_token_file
      ? readSecretFile(config.bearer_token_file, `${where}.bearer_token_file`)
      : undefined;
  }

  private body(a: Alert): unknown {
    if (this.config.format === 'ocsf') return toOcsf(a);
    if (this.config.format === 'slack') return slackMessage(a);
    return a;
  }

  async send(alerts: Alert[]): Promise<void> {
    for (const a of alerts) {
      const payload = JSON.stringify(this.body(a));
      const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'meshward' };
      if (this.secret)
        headers['x-meshward-signature'] = `sha256=${createHmac('sha256', this.secret).update(payload).digest('hex')}`;
      if (this.bearer) headers.authorization = `Bearer ${this.bearer}`;
      let res: Response;
      try {
        res = await fetch(this.config.url, {
          method: 'POST',
          headers,
          body: payload,
          signal: AbortSignal.timeout(this.config.timeout_ms),
        });
      } catch (err) {
        throw mwError('SINK_FAILED', `webhook unreachable: ${(err as Error).message}`);
      }
      await res.arrayBuffer().catch(() => undefined);
      if (res.status >= 500 || res.status === 429) throw mwError('SINK_FAILED', `webhook answered ${res.status}`);
      if (!res.ok) throw mwError('BAD_REQUEST', `webhook refused the alert with ${res.status}`);
    }
  }
}

import { readFile } from 'node:fs/promises';
import { createTransport, type Transporter } from 'nodemailer';
import type { Channel, DeliveryResult, OutgoingMessage } from '../types.js';
import { DEFAULT_TIMEOUT_MS, type ChannelOptions, type EmailConfig } from './options.js';
import { errorText, redact } from './redact.js';
import { classifySmtpError } from './smtp-errors.js';

/**
 * `<key@bulwark>`: the same notification always has the same Message-ID, so a
 * mail system that saw it drops the repeat. Characters a Message-ID may not
 * hold are hex-escaped (`=3A`), which keeps distinct keys distinct.
 */
export function messageIdFor(idempotencyKey: string): string {
  const local = idempotencyKey.replace(/[^A-Za-z0-9_-]/g, (c) => [...Buffer.from(c)].map((b) => `=${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''));
  return `<${local}@bulwark>`;
}

function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('delivery cancelled'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('delivery cancelled'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

class EmailChannel implements Channel {
  readonly type = 'email';
  private transporter: Transporter | undefined;

  constructor(readonly name: string, private readonly config: EmailConfig, private readonly options: ChannelOptions) {}

  async send(message: OutgoingMessage, signal: AbortSignal): Promise<DeliveryResult> {
    const { smtp } = this.config;
    let transporter: Transporter;
    try {
      transporter = await this.transport();
    } catch (err) {
      return { ok: false, retryable: false, error: `cannot read ca_file ${smtp.ca_file}: ${redact(errorText(err), [smtp.password])}` };
    }
    try {
      const info = (await raceAbort(transporter.sendMail(this.mail(message)), signal)) as { response?: string; rejected?: unknown[] };
      // Some recipients refused, others accepted: a retry would repeat it to those who have it.
      const rejected = info.rejected && info.rejected.length > 0 ? `; refused for ${info.rejected.map(String).join(', ')}` : '';
      return { ok: true, detail: `accepted by ${smtp.host}: ${info.response ?? ''}${rejected}` };
    } catch (err) {
      if (signal.aborted) return { ok: false, retryable: true, error: `SMTP server ${smtp.host}:${smtp.port}: delivery cancelled` };
      return classifySmtpError(err, { host: smtp.host, port: smtp.port, user: smtp.user, password: smtp.password });
    }
  }

  async close(): Promise<void> {
    this.transporter?.close();
    this.transporter = undefined;
  }

  private mail(message: OutgoingMessage) {
    const headers: Record<string, string> = { ...message.headers };
    if (message.incidentId !== null) headers['X-Bulwark-Incident'] = String(message.incidentId);
    return {
      from: this.config.smtp.from,
      to: message.to && message.to.length > 0 ? message.to : this.config.to,
      subject: message.subject,
      text: message.text,
      ...(message.html !== undefined ? { html: message.html } : {}),
      messageId: messageIdFor(message.idempotencyKey),
      headers,
    };
  }

  private async transport(): Promise<Transporter> {
    if (this.transporter) return this.transporter;
    const { smtp } = this.config;
    const timeout = this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const ca = smtp.ca_file !== undefined ? await (this.options.caFileReader ?? readFile)(smtp.ca_file) : undefined;
    this.transporter = createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: smtp.tls,
      // `starttls: false` is for a trusted local relay: plain, as asked, rather than a TLS attempt that may fail on its certificate.
      requireTLS: smtp.starttls && !smtp.tls,
      ignoreTLS: !smtp.starttls && !smtp.tls,
      ...(smtp.user !== undefined && smtp.password !== undefined ? { auth: { user: smtp.user, pass: smtp.password } } : {}),
      tls: { minVersion: 'TLSv1.2', ...(ca !== undefined ? { ca } : {}) },
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
      dnsTimeout: timeout,
      disableFileAccess: true,
      disableUrlAccess: true,
    });
    return this.transporter;
  }
}

/** Email over SMTP with nodemailer: one connection per message, STARTTLS required unless turned off. */
export function emailChannel(name: string, config: EmailConfig, options: ChannelOptions = {}): Channel {
  return new EmailChannel(name, config, options);
}

import type { AlertChannelConfig } from '../../config/index.js';

/** What a channel factory takes besides its configuration; every field has a production default. */
export interface ChannelOptions {
  /** Bound on one delivery attempt: an HTTP request with its answer, or an SMTP session. Default 10 s. */
  timeoutMs?: number;
  /** Reads an email channel's `ca_file`; default `fs.promises.readFile`. */
  caFileReader?: (path: string) => Promise<string | Buffer>;
  /** Clock in milliseconds for timestamps; tests pin it. */
  now?: () => number;
}

export type WebhookConfig = NonNullable<AlertChannelConfig['webhook']>;
export type EmailConfig = NonNullable<AlertChannelConfig['email']>;
export type SlackConfig = NonNullable<AlertChannelConfig['slack']>;
export type PagerDutyConfig = NonNullable<AlertChannelConfig['pagerduty']>;
export type HttpChannelConfig = NonNullable<AlertChannelConfig['http']>;

export const DEFAULT_TIMEOUT_MS = 10_000;

import type { DeliveryResult } from '../types.js';
import { errorText, redact } from './redact.js';

/** What nodemailer puts on its errors. */
interface SmtpError {
  code?: string;
  /** The system or TLS error's own code, when nodemailer replaced it with its own. */
  originalCode?: string;
  responseCode?: number;
  command?: string;
  response?: string;
}

/** OpenSSL's verification codes and Node's TLS codes, which nodemailer files under ESOCKET. */
const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_|^ERR_TLS|^ERR_SSL/;

function isTlsFailure(e: SmtpError): boolean {
  return e.code === 'ETLS' || TLS_CODE.test(e.originalCode ?? '');
}

export interface SmtpErrorContext {
  host: string;
  port: number;
  user?: string;
  password?: string;
}

/**
 * SMTP's own rule: 4xx is "try again later", 5xx is "this will not work".
 * Authentication and TLS failures are configuration mistakes and are not
 * retried; the network is.
 */
export function classifySmtpError(err: unknown, ctx: SmtpErrorContext): DeliveryResult {
  const e = (err ?? {}) as SmtpError;
  const where = `${ctx.host}:${ctx.port}`;
  const result = classify(e, errorText(err), where, ctx);
  return result.ok ? result : { ...result, error: redact(result.error, [ctx.password]) };
}

function classify(e: SmtpError, message: string, where: string, ctx: SmtpErrorContext): DeliveryResult {
  const status = e.responseCode;
  if (e.code === 'EAUTH' && (status === undefined || status >= 500)) {
    return { ok: false, retryable: false, error: `SMTP server ${where} refused the login${ctx.user ? ` of ${ctx.user}` : ''}: check user and password (${firstLine(message)})` };
  }
  if (e.command === 'STARTTLS' || (e.code === 'ECONNECTION' && /STARTTLS/.test(message))) {
    return { ok: false, retryable: false, error: `SMTP server ${where} does not offer STARTTLS, which starttls: true requires (turn it off only for a trusted local relay): ${firstLine(message)}` };
  }
  if (isTlsFailure(e)) {
    return { ok: false, retryable: false, error: `TLS with SMTP server ${where} failed (set ca_file to the CA that signed its certificate): ${firstLine(message)}` };
  }
  if (status !== undefined && status >= 400 && status < 500) return { ok: false, retryable: true, error: `SMTP server ${where} answered ${status}, try later: ${firstLine(message)}` };
  if (status !== undefined && status >= 500) return { ok: false, retryable: false, error: `SMTP server ${where} refused the message (${status}): ${firstLine(message)}` };
  if (e.code === 'EENVELOPE' || e.code === 'EMESSAGE') return { ok: false, retryable: false, error: `SMTP: ${firstLine(message)}` };
  return { ok: false, retryable: true, error: `SMTP server ${where}: ${firstLine(message)}${e.code ? ` (${e.code})` : ''}` };
}

function firstLine(text: string): string {
  return text.split(/\r?\n/)[0]!.slice(0, 300);
}

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { emailChannel, messageIdFor } from './email.js';
import type { EmailConfig } from './options.js';
import { signal, testMessage } from './testing/receiver.js';
import { selfSigned, SMTP_PASSWORD, SMTP_USER, startSmtpReceiver, type SelfSigned, type SmtpReceiver } from './testing/smtp-receiver.js';

let tls: SelfSigned;
let smtp: SmtpReceiver | undefined;
beforeAll(() => { tls = selfSigned(); });
afterAll(() => tls.remove());
afterEach(async () => { await smtp?.close(); smtp = undefined; });

const starttlsServer = () => startSmtpReceiver({ key: tls.key, cert: tls.cert, authOptional: false });

function config(port: number, extra: Partial<EmailConfig['smtp']> = {}): EmailConfig {
  return {
    smtp: { host: '127.0.0.1', port, user: SMTP_USER, password: SMTP_PASSWORD, from: 'bulwark@example.com', starttls: true, tls: false, ca_file: '/etc/bulwark/smtp-ca.pem', ...extra },
    to: ['oncall@example.com', 'lead@example.com'],
  };
}

const options = { timeoutMs: 1_500, caFileReader: async () => tls.cert };

describe('email channel', () => {
  it('delivers over STARTTLS with auth: subject, body, recipients, Message-ID and incident header', async () => {
    smtp = await starttlsServer();
    const channel = emailChannel('mail', config(smtp.port), options);
    const result = await channel.send(testMessage({ html: '<p>api is <b>down</b></p>' }), signal());
    expect(result).toMatchObject({ ok: true });
    const [mail] = smtp.mails;
    expect(mail).toMatchObject({ from: 'bulwark@example.com', to: ['oncall@example.com', 'lead@example.com'], secure: true, user: SMTP_USER });
    expect(mail!.raw).toMatch(/^Subject: api is down\r$/m);
    expect(mail!.raw).toMatch(/^Message-ID: <incident-42-step-1-oncall@bulwark>\r$/m);
    expect(mail!.raw).toMatch(/^X-Bulwark-Incident: 42\r$/m);
    expect(mail!.raw).toContain('all 3 endpoints failing since 10:00 UTC');
    expect(mail!.raw).toContain('<p>api is <b>down</b></p>');
    expect(mail!.raw).toMatch(/multipart\/alternative/);
    await channel.close?.();
  });

  it('writes to the message\'s recipients when it names them', async () => {
    smtp = await starttlsServer();
    await emailChannel('mail', config(smtp.port), options).send(testMessage({ to: ['ada@example.com'] }), signal());
    expect(smtp.mails[0]!.to).toEqual(['ada@example.com']);
  });

  it('passes the message\'s extra headers (List-Unsubscribe), without letting them replace its own', async () => {
    smtp = await starttlsServer();
    const headers = { 'List-Unsubscribe': '<https://status.example.com/unsubscribe?token=t1>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click', 'X-Bulwark-Incident': '7' };
    await emailChannel('mail', config(smtp.port), options).send(testMessage({ headers }), signal());
    expect(smtp.mails[0]!.raw).toMatch(/^List-Unsubscribe: <https:\/\/status\.example\.com\/unsubscribe\?token=t1>\r$/m);
    expect(smtp.mails[0]!.raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r$/m);
    expect(smtp.mails[0]!.raw).toMatch(/^X-Bulwark-Incident: 42\r$/m);
  });

  it('reports a wrong password as not retryable, without the password', async () => {
    smtp = await starttlsServer();
    const wrong = 'wrong-password-123';
    const result = await emailChannel('mail', config(smtp.port, { password: wrong }), options).send(testMessage(), signal());
    expect(result).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('check user and password') });
    if (!result.ok) expect(result.error).not.toContain(wrong);
  });

  it('retries when the server answers 451', async () => {
    smtp = await startSmtpReceiver({
      key: tls.key, cert: tls.cert, authOptional: false,
      onRcptTo: (_address, _session, callback) => callback(Object.assign(new Error('Try again later'), { responseCode: 451 })),
    });
    const result = await emailChannel('mail', config(smtp.port), options).send(testMessage(), signal());
    expect(result).toMatchObject({ ok: false, retryable: true, error: expect.stringContaining('451') });
  });

  it('refuses a server without STARTTLS when starttls is required, saying so', async () => {
    smtp = await startSmtpReceiver({ disabledCommands: ['STARTTLS'], authOptional: true, allowInsecureAuth: true });
    const result = await emailChannel('mail', config(smtp.port), options).send(testMessage(), signal());
    expect(result).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('does not offer STARTTLS') });
    expect(smtp.mails).toHaveLength(0);
  });

  it('refuses a certificate it cannot verify, pointing at ca_file', async () => {
    smtp = await starttlsServer();
    const result = await emailChannel('mail', config(smtp.port, { ca_file: undefined }), options).send(testMessage(), signal());
    expect(result).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('ca_file') });
  });

  it('speaks implicit TLS when tls is set', async () => {
    smtp = await startSmtpReceiver({ secure: true, key: tls.key, cert: tls.cert, authOptional: false });
    const result = await emailChannel('mail', config(smtp.port, { tls: true }), options).send(testMessage(), signal());
    expect(result).toMatchObject({ ok: true });
    expect(smtp.mails[0]!.secure).toBe(true);
  });

  it('treats a refused connection as retryable', async () => {
    smtp = await starttlsServer();
    const port = smtp.port;
    await smtp.close();
    smtp = undefined;
    expect(await emailChannel('mail', config(port), options).send(testMessage(), signal())).toMatchObject({ ok: false, retryable: true });
  });

  it('keeps distinct idempotency keys distinct in the Message-ID', () => {
    expect(messageIdFor('incident-42_step-1')).toBe('<incident-42_step-1@bulwark>');
    expect(messageIdFor('a:b c')).toBe('<a=3Ab=20c@bulwark>');
    expect(messageIdFor('a=3Ab')).not.toBe(messageIdFor('a:b'));
  });
});

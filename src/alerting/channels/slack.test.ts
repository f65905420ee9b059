import { afterEach, describe, expect, it } from 'vitest';
import { slackChannel } from './slack.js';
import { signal, startReceiver, testMessage, type Receiver } from './testing/receiver.js';

let receiver: Receiver;
afterEach(() => receiver?.close());

describe('slack channel', () => {
  it('posts bold subject, escaped text and link buttons', async () => {
    receiver = await startReceiver();
    const channel = slackChannel('chat', { webhook_url: `${receiver.url}/services/T1/B2/abc` });
    const message = testMessage({ subject: 'api <down> & out', text: 'a > b', links: { acknowledge: 'https://b.example/ack?a=1&b=2', view: 'https://b.example/i/42' } });
    expect(await channel.send(message, signal())).toMatchObject({ ok: true });
    expect(receiver.received[0]!.path).toBe('/services/T1/B2/abc');
    expect(JSON.parse(receiver.received[0]!.body)).toEqual({
      text: '*api &lt;down&gt; &amp; out*\na &gt; b\n<https://b.example/ack?a=1&amp;b=2|Acknowledge> · <https://b.example/i/42|View>',
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: '*api &lt;down&gt; &amp; out*\na &gt; b' } },
        {
          type: 'actions',
          elements: [
            { type: 'button', text: { type: 'plain_text', text: 'Acknowledge' }, url: 'https://b.example/ack?a=1&b=2' },
            { type: 'button', text: { type: 'plain_text', text: 'View' }, url: 'https://b.example/i/42' },
          ],
        },
      ],
    });
  });

  it('has no buttons without links and keeps a section within Slack\'s 3000 characters', async () => {
    receiver = await startReceiver();
    await slackChannel('chat', { webhook_url: receiver.url }).send(testMessage({ links: {}, text: '&'.repeat(5000) }), signal());
    const { text, blocks } = JSON.parse(receiver.received[0]!.body) as { text: string; blocks: Array<{ text: { text: string } }> };
    expect(blocks).toHaveLength(1);
    expect(blocks[0]!.text.text.length).toBeLessThanOrEqual(3000);
    expect(blocks[0]!.text.text).toMatch(/(&amp;)+…$/);
    expect(text.endsWith('&amp;')).toBe(true);
  });

  it('keeps the webhook URL, a credential, out of errors', async () => {
    receiver = await startReceiver((req, res) => { res.statusCode = 404; res.end(`no_service ${req.url}`); });
    const result = await slackChannel('chat', { webhook_url: `${receiver.url}/services/T1/B2/sekrit` }).send(testMessage(), signal());
    expect(result).toMatchObject({ ok: false, retryable: false });
    if (!result.ok) expect(result.error).not.toContain('sekrit');
  });
});

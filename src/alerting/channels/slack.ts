import type { Channel, OutgoingMessage } from '../types.js';
import type { ChannelOptions, SlackConfig } from './options.js';
import { safePost } from './safe-http.js';

/** Slack rejects a section whose text is longer (invalid_blocks). */
const SECTION_LIMIT = 3000;
const LINK_LABELS = [['acknowledge', 'Acknowledge'], ['resolve', 'Resolve'], ['view', 'View']] as const;

/** Slack's three control characters; everything else is literal in mrkdwn. */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function links(message: OutgoingMessage): Array<{ label: string; url: string }> {
  return LINK_LABELS.flatMap(([key, label]) => (message.links[key] ? [{ label, url: message.links[key]! }] : []));
}

/** `<url|label>`: a `|` in the URL would end it early, so it is percent-encoded. */
function mrkdwnLink(url: string, label: string): string {
  return `<${escapeSlack(url.replace(/\|/g, '%7C'))}|${label}>`;
}

/** Cuts at a limit without splitting an `&amp;`-style escape. */
function cut(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const head = text.slice(0, limit - 1).replace(/&[a-z]{0,4}$/, '');
  return `${head}…`;
}

export function slackPayload(message: OutgoingMessage): { text: string; blocks: unknown[] } {
  const linkLine = links(message).map((l) => mrkdwnLink(l.url, l.label)).join(' · ');
  const heading = `*${escapeSlack(message.subject)}*`;
  const body = escapeSlack(message.text);
  const text = [heading, body, linkLine].filter((s) => s !== '').join('\n');
  const blocks: unknown[] = [{ type: 'section', text: { type: 'mrkdwn', text: cut(`${heading}\n${body}`, SECTION_LIMIT) } }];
  const buttons = links(message).map((l) => ({ type: 'button', text: { type: 'plain_text', text: l.label }, url: l.url }));
  if (buttons.length > 0) blocks.push({ type: 'actions', elements: buttons });
  return { text, blocks };
}

/** A Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat); its URL is the credential. */
export function slackChannel(name: string, config: SlackConfig, options: ChannelOptions = {}): Channel {
  return {
    name,
    type: 'slack',
    send(message, signal) {
      const body = JSON.stringify(slackPayload(message));
      return safePost({ url: config.webhook_url, body, headers: { 'content-type': 'application/json' }, signal, timeoutMs: options.timeoutMs });
    },
  };
}

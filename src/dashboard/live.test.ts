import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../events/index.js';
import type { ProbeEvents } from '../probes/index.js';
import { LiveStatus } from './live.js';

async function open(live: LiveStatus, alive: () => boolean = () => true) {
  const app = new Hono();
  app.get('/s', (c) => live.stream(c, alive));
  const res = await app.request('/s');
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  expect(new TextDecoder().decode((await reader.read()).value)).toContain('event: hello');
  return reader;
}

describe('live status streams', () => {
  it('fan out one bus subscription to every stream, and end when the daemon begins to stop', async () => {
    const bus = new EventBus<ProbeEvents>();
    const stopping = new AbortController();
    const live = new LiveStatus(bus, stopping.signal);
    const [a, b] = [await open(live), await open(live)];
    expect(live.size).toBe(2);
    bus.emit('owner.state', { kind: 'database', name: 'main', from: 'up', to: 'down', at: 5 });
    for (const reader of [a, b]) expect(new TextDecoder().decode((await reader.read()).value)).toContain('{"key":"database/main","status":"down","at":5}');
    stopping.abort();
    for (const reader of [a, b]) {
      let done = false;
      while (!done) done = (await reader.read()).done;
    }
    expect(live.size).toBe(0);
  });
});

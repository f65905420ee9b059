import { describe, expect, it } from 'vitest';
import { Lifecycle, type Subsystem } from './lifecycle.js';
import { memoryLogger } from '../testing/memory-logger.js';


interface Fake extends Subsystem<string> {
  deadlines: AbortSignal[];
  reloaded: string[];
  isReady: boolean;
}

function fake(name: string, calls: string[], options: { failStart?: boolean; failStop?: boolean; stop?: (deadline: AbortSignal) => Promise<void> } = {}): Fake {
  const subsystem: Fake = {
    name,
    deadlines: [],
    reloaded: [],
    isReady: true,
    async start() {
      calls.push(`start ${name}`);
      if (options.failStart) throw new Error(`${name} cannot start`);
    },
    async stop(deadline) {
      calls.push(`stop ${name}`);
      subsystem.deadlines.push(deadline);
      if (options.stop) await options.stop(deadline);
      if (options.failStop) throw new Error(`${name} cannot stop`);
    },
    async reload(config) {
      subsystem.reloaded.push(config);
    },
    ready() {
      return subsystem.isReady;
    },
  };
  return subsystem;
}

const transitions = (lines: Array<Record<string, unknown>>) =>
  lines.filter((line) => line.msg === 'lifecycle state changed').map((line) => `${String(line.from)}->${String(line.to)}`);

describe('Lifecycle', () => {
  it('starts subsystems in order and stops them in reverse order', async () => {
    const calls: string[] = [];
    const { log } = memoryLogger();
    const lifecycle = new Lifecycle([fake('store', calls), fake('api', calls), fake('checks', calls)], log);
    await lifecycle.start();
    expect(calls).toEqual(['start store', 'start api', 'start checks']);
    await lifecycle.stop(1_000);
    expect(calls.slice(3)).toEqual(['stop checks', 'stop api', 'stop store']);
  });

  it('goes idle -> starting -> running -> stopping -> stopped, logging every change', async () => {
    const calls: string[] = [];
    const { log, lines } = memoryLogger();
    const lifecycle = new Lifecycle([fake('a', calls)], log);
    expect(lifecycle.state.kind).toBe('idle');
    expect(lifecycle.isReady()).toBe(false);
    const starting = lifecycle.start();
    expect(lifecycle.state.kind).toBe('starting');
    await starting;
    expect(lifecycle.state.kind).toBe('running');
    expect(lifecycle.isReady()).toBe(true);
    const stopping = lifecycle.stop(5_000);
    expect(lifecycle.state.kind).toBe('stopping');
    const state = lifecycle.state;
    if (state.kind !== 'stopping') throw new Error('expected stopping');
    expect(state.deadline.getTime() - state.since.getTime()).toBeGreaterThanOrEqual(4_900);
    expect(lifecycle.isReady()).toBe(false);
    await stopping;
    expect(lifecycle.state.kind).toBe('stopped');
    expect(transitions(lines)).toEqual(['idle->starting', 'starting->running', 'running->stopping', 'stopping->stopped']);
  });

  it('start() twice is refused', async () => {
    const { log } = memoryLogger();
    const lifecycle = new Lifecycle([fake('a', [])], log);
    await lifecycle.start();
    await expect(lifecycle.start()).rejects.toThrow(/cannot start from state running/);
  });

  it('stop() twice returns the same promise and stops each subsystem once', async () => {
    const calls: string[] = [];
    const { log } = memoryLogger();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const lifecycle = new Lifecycle([fake('a', calls), fake('b', calls, { stop: () => gate })], log);
    await lifecycle.start();
    const first = lifecycle.stop(1_000);
    const second = lifecycle.stop(50);
    expect(second).toBe(first);
    release();
    await first;
    expect(calls.filter((c) => c.startsWith('stop'))).toEqual(['stop b', 'stop a']);
    expect(lifecycle.stop(10)).toBe(first);
  });

  it('a subsystem failing to start stops the already-started ones (in reverse), not itself or later ones, and rethrows', async () => {
    const calls: string[] = [];
    const { log, lines } = memoryLogger();
    const lifecycle = new Lifecycle([fake('a', calls), fake('b', calls), fake('c', calls, { failStart: true }), fake('d', calls)], log);
    await expect(lifecycle.start()).rejects.toThrow('c cannot start');
    expect(calls).toEqual(['start a', 'start b', 'start c', 'stop b', 'stop a']);
    const state = lifecycle.state;
    expect(state.kind).toBe('failed');
    if (state.kind === 'failed') expect(state.error).toBe('c cannot start');
    expect(lifecycle.isReady()).toBe(false);
    expect(transitions(lines)).toEqual(['idle->starting', 'starting->failed']);
  });

  it('a subsystem failing to stop is logged and the others still stop', async () => {
    const calls: string[] = [];
    const { log, lines } = memoryLogger();
    const lifecycle = new Lifecycle([fake('a', calls), fake('b', calls, { failStop: true }), fake('c', calls)], log);
    await lifecycle.start();
    await lifecycle.stop(1_000);
    expect(calls.slice(3)).toEqual(['stop c', 'stop b', 'stop a']);
    expect(lifecycle.state.kind).toBe('stopped');
    expect(lines.some((line) => line.subsystem === 'b' && line.msg === 'subsystem failed to stop cleanly')).toBe(true);
  });

  it('passes every subsystem one deadline signal that aborts after drainMs', async () => {
    const calls: string[] = [];
    const { log } = memoryLogger();
    const slow = fake('slow', calls, {
      stop: (deadline) => new Promise<void>((resolve) => {
        if (deadline.aborted) return resolve();
        deadline.addEventListener('abort', () => resolve(), { once: true });
      }),
    });
    const other = fake('other', calls);
    const lifecycle = new Lifecycle([other, slow], log);
    await lifecycle.start();
    await lifecycle.stop(20);
    expect(slow.deadlines[0]?.aborted).toBe(true);
    expect(other.deadlines[0]).toBe(slow.deadlines[0]);
    expect(lifecycle.state.kind).toBe('stopped');
  });

  it('is ready only when running and every started subsystem reports ready', async () => {
    const { log } = memoryLogger();
    const a = fake('a', []);
    const lifecycle = new Lifecycle([a, fake('b', [])], log);
    await lifecycle.start();
    expect(lifecycle.isReady()).toBe(true);
    a.isReady = false;
    expect(lifecycle.isReady()).toBe(false);
    a.isReady = true;
    expect(lifecycle.isReady()).toBe(true);
  });

  it('reload passes the new configuration to every started subsystem, in order', async () => {
    const { log } = memoryLogger();
    const a = fake('a', []);
    const b = fake('b', []);
    const lifecycle = new Lifecycle([a, b], log);
    await lifecycle.start();
    await lifecycle.reload('v2');
    expect(a.reloaded).toEqual(['v2']);
    expect(b.reloaded).toEqual(['v2']);
  });

  it('tells every started subsystem that the stop begins before it stops any (on a stop and on a failed start)', async () => {
    const calls: string[] = [];
    const { log, lines } = memoryLogger();
    const told = (subsystem: Fake, fail = false): Fake => Object.assign(subsystem, {
      beforeStop() {
        calls.push(`beforeStop ${subsystem.name}`);
        if (fail) throw new Error(`${subsystem.name} cannot prepare`);
      },
    });
    const lifecycle = new Lifecycle([told(fake('gateway', calls), true), fake('plain', calls), told(fake('databases', calls))], log);
    await lifecycle.start();
    await lifecycle.stop(1_000);
    expect(calls.slice(3)).toEqual(['beforeStop gateway', 'beforeStop databases', 'stop databases', 'stop plain', 'stop gateway']);
    expect(lines.filter((l) => l.msg === 'subsystem failed to prepare for the stop')).toEqual([expect.objectContaining({ subsystem: 'gateway', err: 'gateway cannot prepare' })]);

    calls.length = 0;
    const failing = new Lifecycle([told(fake('a', calls)), told(fake('b', calls)), fake('c', calls, { failStart: true })], memoryLogger().log);
    await expect(failing.start()).rejects.toThrow('c cannot start');
    expect(calls).toEqual(['start a', 'start b', 'start c', 'beforeStop a', 'beforeStop b', 'stop b', 'stop a']);
  });

  it('stop before start ends in stopped without touching subsystems', async () => {
    const calls: string[] = [];
    const { log } = memoryLogger();
    const lifecycle = new Lifecycle([fake('a', calls)], log);
    await lifecycle.stop(10);
    expect(calls).toEqual([]);
    expect(lifecycle.state.kind).toBe('stopped');
  });
});

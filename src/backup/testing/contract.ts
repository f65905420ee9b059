import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Backend, FileKind } from '../backend/types.js';

export interface ContractOptions {
  /** Files written for the listing test; more than 1000 exercises S3 pagination. */
  manyFiles?: number;
}

/**
 * The behaviour every backend promises, run by each backend's test file.
 * `fresh` returns a backend at a new, empty location (not yet created).
 */
export function backendContract(label: string, fresh: () => Promise<Backend>, options: ContractOptions = {}): void {
  describe(`${label} backend contract`, () => {
    let opened: Backend[] = [];
    const open = async (): Promise<Backend> => {
      const backend = await fresh();
      opened.push(backend);
      await backend.create();
      return backend;
    };
    afterEach(async () => {
      await Promise.all(opened.map((backend) => backend.close()));
      opened = [];
    });

    it('creates idempotently and starts empty', async () => {
      const backend = await open();
      await backend.create();
      for (const kind of ['config', 'keys', 'data', 'index', 'snapshots', 'locks', 'wal'] as const) {
        expect(await backend.list(kind)).toEqual([]);
      }
      expect(backend.location).not.toBe('');
    });

    it('writes, reads and stats files', async () => {
      const backend = await open();
      const data = randomBytes(1000);
      await backend.write('data', 'ab12cd', data);
      await backend.write('config', 'config', Buffer.from('cfg'));
      expect(await backend.read('data', 'ab12cd')).toEqual(data);
      expect(await backend.read('config', 'config')).toEqual(Buffer.from('cfg'));
      expect(await backend.stat('data', 'ab12cd')).toEqual({ kind: 'data', name: 'ab12cd', size: 1000 });
      expect(await backend.stat('data', 'ab12ce')).toBeUndefined();
      expect(await backend.stat('index', 'ab12cd')).toBeUndefined();
      expect(await backend.list('config')).toEqual([{ kind: 'config', name: 'config', size: 3 }]);
    });

    it('writes and reads empty files', async () => {
      const backend = await open();
      await backend.write('locks', 'empty', Buffer.alloc(0));
      const read = await backend.read('locks', 'empty');
      expect(Buffer.isBuffer(read)).toBe(true);
      expect(read.length).toBe(0);
      expect(await backend.stat('locks', 'empty')).toEqual({ kind: 'locks', name: 'empty', size: 0 });
    });

    it('reads byte ranges, clamped at the end of the file', async () => {
      const backend = await open();
      const data = randomBytes(3 * 1024 * 1024 + 17);
      await backend.write('data', 'big', data);
      expectBytes(await backend.read('data', 'big'), data);
      expectBytes(await backend.read('data', 'big', { offset: 0, length: 10 }), data.subarray(0, 10));
      expectBytes(await backend.read('data', 'big', { offset: 1_000_000, length: 300_000 }), data.subarray(1_000_000, 1_300_000));
      expectBytes(await backend.read('data', 'big', { offset: data.length - 5, length: 100 }), data.subarray(data.length - 5));
      expect((await backend.read('data', 'big', { offset: data.length, length: 10 })).length).toBe(0);
      expect((await backend.read('data', 'big', { offset: 5, length: 0 })).length).toBe(0);
    });

    it('lists each kind apart, across data shards', async () => {
      const backend = await open();
      await backend.write('data', 'aa01', Buffer.from('1'));
      await backend.write('data', 'ff02', Buffer.from('22'));
      await backend.write('data', 'aa03', Buffer.from('333'));
      await backend.write('snapshots', 's1', Buffer.from('snap'));
      await backend.write('locks', 'l1', Buffer.alloc(0));
      expect(sorted(await backend.list('data'))).toEqual([
        { kind: 'data', name: 'aa01', size: 1 },
        { kind: 'data', name: 'aa03', size: 3 },
        { kind: 'data', name: 'ff02', size: 2 },
      ]);
      expect(await backend.list('snapshots')).toEqual([{ kind: 'snapshots', name: 's1', size: 4 }]);
      expect(await backend.list('locks')).toEqual([{ kind: 'locks', name: 'l1', size: 0 }]);
      expect(await backend.list('index')).toEqual([]);
    });

    it('overwrites a file with the new content', async () => {
      const backend = await open();
      await backend.write('keys', 'k1', Buffer.from('first version'));
      await backend.write('keys', 'k1', Buffer.from('second'));
      expect(await backend.read('keys', 'k1')).toEqual(Buffer.from('second'));
      expect(await backend.list('keys')).toEqual([{ kind: 'keys', name: 'k1', size: 6 }]);
    });

    it('removes files; removing a missing file is fine', async () => {
      const backend = await open();
      await backend.write('index', 'i1', Buffer.from('x'));
      await backend.remove('index', 'i1');
      await backend.remove('index', 'i1');
      await backend.remove('data', 'ee99');
      expect(await backend.stat('index', 'i1')).toBeUndefined();
      expect(await backend.list('index')).toEqual([]);
      await expect(backend.read('index', 'i1')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('answers NOT_FOUND for missing files, with a hint', async () => {
      const backend = await open();
      for (const range of [undefined, { offset: 0, length: 4 }, { offset: 0, length: 0 }]) {
        const err = await backend.read('snapshots', 'nope', range).catch((e: unknown) => e);
        expect(err).toMatchObject({ name: 'BulwarkError', code: 'NOT_FOUND' });
        expect((err as { hint?: string }).hint).toBeTruthy();
      }
    });

    it('rejects names that could escape the repository', async () => {
      const backend = await open();
      const bad: [FileKind, string][] = [
        ['data', '../escape'], ['data', '..'], ['keys', '.hidden'], ['index', 'a/b'], ['index', ''],
        ['locks', 'a\\b'], ['snapshots', 'x\0y'], ['config', 'other'], ['wal', 'a b'], ['nope' as FileKind, 'x'],
      ];
      for (const [kind, name] of bad) {
        await expect(backend.write(kind, name, Buffer.from('x'))).rejects.toMatchObject({ code: 'USAGE' });
        await expect(backend.read(kind, name)).rejects.toMatchObject({ code: 'USAGE' });
        await expect(backend.stat(kind, name)).rejects.toMatchObject({ code: 'USAGE' });
        await expect(backend.remove(kind, name)).rejects.toMatchObject({ code: 'USAGE' });
      }
      await expect(backend.list('nope' as FileKind)).rejects.toMatchObject({ code: 'USAGE' });
      await expect(backend.read('data', 'ab', { offset: -1, length: 1 })).rejects.toMatchObject({ code: 'USAGE' });
    });

    it('stops when the signal is aborted', async () => {
      const backend = await open();
      const controller = new AbortController();
      controller.abort();
      await expect(backend.write('data', 'ab', Buffer.from('x'), controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
      expect(await backend.stat('data', 'ab')).toBeUndefined();
    });

    const many = options.manyFiles ?? 1100;
    it(`lists ${many} files`, async () => {
      const backend = await open();
      const names = Array.from({ length: many }, (_, i) => `f${String(i).padStart(5, '0')}`);
      await inParallel(names, 32, (name) => backend.write('index', name, Buffer.from(name)));
      const listed = await backend.list('index');
      expect(listed.map((info) => info.name).sort()).toEqual(names);
      expect(listed.every((info) => info.size === 6)).toBe(true);
    });
  });
}

/** Buffer.equals: vitest's deep equality walks megabytes byte by byte. */
function expectBytes(actual: Buffer, expected: Buffer): void {
  expect(actual.length).toBe(expected.length);
  expect(actual.equals(expected)).toBe(true);
}

function sorted<T extends { name: string }>(items: T[]): T[] {
  return [...items].sort((a, b) => a.name.localeCompare(b.name));
}

export async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

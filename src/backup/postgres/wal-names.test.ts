import { describe, expect, it } from 'vitest';
import {
  backupHistoryFileName, compareWalPositions, formatLsn, parseLsn, parseWalFileName, segmentRange, walFileNameBefore, walFileNameOf, type WalFileName,
} from './wal-names.js';

const MB = 1024 * 1024;

describe('LSNs', () => {
  it('parses and formats like PostgreSQL', () => {
    expect(parseLsn('0/3000060')).toBe(0x3000060n);
    expect(parseLsn('16/B374D848')).toBe((0x16n << 32n) | 0xb374d848n);
    expect(formatLsn(parseLsn('16/b374d848'))).toBe('16/B374D848');
    expect(formatLsn(0n)).toBe('0/0');
  });

  it('refuses what is not an LSN', () => {
    for (const bad of ['', '0', '0/', 'x/1', '1/2/3', '123456789/0']) expect(() => parseLsn(bad)).toThrow(/not a WAL location/);
  });
});

describe('segment names', () => {
  it.each([
    [1, '0/3000060', 16 * MB, '000000010000000000000003'],
    [1, '0/FFFFFFFF', 16 * MB, '0000000100000000000000FF'],
    [2, '1/0', 16 * MB, '000000020000000100000000'],
    [3, '16/B374D848', 16 * MB, '0000000300000016000000B3'],
    [1, '0/3000060', MB, '000000010000000000000030'],
    [1, '1/0', 64 * MB, '000000010000000100000000'],
  ])('timeline %i at %s with %i-byte segments is %s', (timeline, lsn, size, name) => {
    expect(walFileNameOf(timeline, lsn, size)).toBe(name);
  });

  it('takes the previous segment for an end exactly on a boundary', () => {
    expect(walFileNameBefore(1, '0/3000000')).toBe('000000010000000000000002');
    expect(walFileNameBefore(1, '0/3000001')).toBe('000000010000000000000003');
    expect(walFileNameBefore(1, '1/0')).toBe('0000000100000000000000FF');
  });

  it('names the backup history file', () => {
    expect(backupHistoryFileName(1, '0/2000028')).toBe('000000010000000000000002.00000028.backup');
  });

  it('refuses impossible segment sizes', () => {
    expect(() => walFileNameOf(1, '0/0', 3 * MB)).toThrow(/not a valid WAL segment size/);
  });

  it('parses every kind of archived file', () => {
    expect(parseWalFileName('000000020000000A000000FF')).toEqual({ kind: 'segment', timeline: 2, log: 10, seg: 255 });
    expect(parseWalFileName('000000010000000000000003.partial')?.kind).toBe('partial');
    expect(parseWalFileName('000000010000000000000002.00000028.backup')).toMatchObject({ kind: 'backup', seg: 2 });
    expect(parseWalFileName('00000002.history')).toEqual({ kind: 'history', timeline: 2, log: 0, seg: 0 });
    for (const bad of ['00000001000000000000003', '0000000100000000000000030', 'RECOVERYXLOG', '../000000010000000000000003',
      '000000010000000000000003.tmp', '0000000g0000000000000003', 'archive_status']) {
      expect(parseWalFileName(bad)).toBeUndefined();
    }
  });

  it('orders by timeline first, then position', () => {
    const at = (name: string): WalFileName => {
      const file = parseWalFileName(name);
      if (!file) throw new Error(`bad name ${name}`);
      return file;
    };
    expect(compareWalPositions(at('000000020000000000000001'), at('0000000100000001000000FF'))).toBeGreaterThan(0);
    expect(compareWalPositions(at('000000010000000100000000'), at('0000000100000000000000FF'))).toBeGreaterThan(0);
    expect(compareWalPositions(at('000000010000000000000005'), at('000000010000000000000005.partial'))).toBe(0);
  });

  it('lists a range across a log boundary', () => {
    expect(segmentRange('0000000100000000000000FE', '000000010000000100000001')).toEqual([
      '0000000100000000000000FE', '0000000100000000000000FF', '000000010000000100000000', '000000010000000100000001',
    ]);
    expect(segmentRange('000000010000000000000003', '000000010000000000000003')).toEqual(['000000010000000000000003']);
  });
});

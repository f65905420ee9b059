import { describe, expect, it } from 'vitest';
import { parseBackupHistory, parseBackupLabel, parseManifestWalRanges, parsePgTimestamp } from './backup-files.js';
import { checkArchiving, type ServerSettings } from './pg-client.js';
import { recoveryFailed, ServerLog } from './server-log.js';

const LABEL = `START WAL LOCATION: 0/2000028 (file 000000010000000000000002)
CHECKPOINT LOCATION: 0/20032F0
BACKUP METHOD: streamed
BACKUP FROM: primary
START TIME: 2026-11-23 13:01:33 UTC
LABEL: bulwark base backup
START TIMELINE: 1
`;

describe('backup files', () => {
  it('reads backup_label', () => {
    expect(parseBackupLabel(LABEL)).toEqual({
      startLsn: '0/2000028', startWalFile: '000000010000000000000002', checkpointLsn: '0/20032F0',
      startTime: new Date('2026-11-23T13:01:33Z'), label: 'bulwark base backup', timeline: 1,
    });
    expect(parseBackupLabel(LABEL.replace('UTC', 'CEST')).startTime).toBeUndefined();
    expect(() => parseBackupLabel('LABEL: x\n')).toThrow(/backup_label is not in the format .* START WAL LOCATION/);
  });

  it('reads the WAL ranges of backup_manifest', () => {
    const manifest = JSON.stringify({
      'PostgreSQL-Backup-Manifest-Version': 1, Files: [],
      'WAL-Ranges': [{ Timeline: 1, 'Start-LSN': '0/2000028', 'End-LSN': '0/2003400' }, { Timeline: 2, 'Start-LSN': '0/2003400', 'End-LSN': '0/30000a0' }],
    });
    expect(parseManifestWalRanges(manifest)).toEqual([
      { timeline: 1, startLsn: '0/2000028', endLsn: '0/2003400' }, { timeline: 2, startLsn: '0/2003400', endLsn: '0/30000A0' },
    ]);
    expect(() => parseManifestWalRanges('{')).toThrow(/not JSON/);
    expect(() => parseManifestWalRanges('{"WAL-Ranges": []}')).toThrow(/no WAL-Ranges/);
    expect(() => parseManifestWalRanges('{"WAL-Ranges": [{"Timeline": 1}]}')).toThrow(/lacks/);
  });

  it('reads the backup history file', () => {
    const history = `${LABEL}STOP WAL LOCATION: 0/2003400 (file 000000010000000000000002)\nSTOP TIME: 2026-11-23 13:01:35 UTC\nSTOP TIMELINE: 1\n`;
    expect(parseBackupHistory(history)).toEqual({
      stopLsn: '0/2003400', stopWalFile: '000000010000000000000002', stopTime: new Date('2026-11-23T13:01:35Z'),
    });
  });

  it.each([
    ['2026-11-23 13:01:33 UTC', '2026-11-23T13:01:33.000Z'],
    ['2026-11-23 13:01:33 GMT', '2026-11-23T13:01:33.000Z'],
    ['2026-11-23 13:01:33.130853+00', '2026-11-23T13:01:33.130Z'],
    ['2026-11-23 15:01:33+02', '2026-11-23T13:01:33.000Z'],
    ['2026-11-23 07:31:33-05:30', '2026-11-23T13:01:33.000Z'],
    ['2026-11-23 18:31:33.5+0530', '2026-11-23T13:01:33.500Z'],
  ])('reads PostgreSQL timestamp %j', (text, iso) => {
    expect(parsePgTimestamp(text)?.toISOString()).toBe(iso);
  });

  it('does not guess zone abbreviations', () => {
    expect(parsePgTimestamp('2026-11-23 13:01:33 CET')).toBeUndefined();
    expect(parsePgTimestamp('yesterday')).toBeUndefined();
  });
});

describe('checkArchiving', () => {
  const ok: ServerSettings = {
    archiveMode: 'on', archiveCommand: 'bulwark wal archive db %p', archiveLibrary: '', walLevel: 'replica', walSegmentSize: 16 << 20, inRecovery: false,
  };
  const connection = { host: 'db1', port: 5432, user: 'backup' };

  it('accepts a server that archives, and a standby whose primary may', () => {
    expect(() => checkArchiving(ok, connection)).not.toThrow();
    expect(() => checkArchiving({ ...ok, archiveCommand: undefined }, connection)).not.toThrow();
    expect(() => checkArchiving({ ...ok, archiveMode: 'off', inRecovery: true }, connection)).not.toThrow();
  });

  it.each<[Partial<ServerSettings>, RegExp]>([
    [{ archiveMode: 'off' }, /archive_mode is off on db1:5432/],
    [{ archiveCommand: '' }, /archive_command is empty on db1:5432/],
    [{ walLevel: 'minimal' }, /wal_level is minimal/],
  ])('refuses %j', (change, message) => {
    expect(() => checkArchiving({ ...ok, ...change }, connection)).toThrow(message);
  });
});

function logOf(text: string): ServerLog {
  const log = new ServerLog();
  log.append(Buffer.from(text));
  return log;
}

describe('server log', () => {
  const prefix = '2026-11-23 13:01:43.193 UTC [20521] startup ';

  it('quotes the startup FATAL, not a client\'s, and classifies it', () => {
    const log = logOf([
      '2026-11-23 13:01:41.000 UTC [20522] client backend FATAL:  the database system is starting up',
      `${prefix}LOG:  recovery stopping before commit of transaction 2371, time 2026-11-23 13:01:33.130853+00`,
      `${prefix}FATAL:  requested recovery stop point is before consistent recovery point`,
      '2026-11-23 13:01:43.195 UTC [20488] postmaster LOG:  startup process (PID 20521) exited with exit code 1', '',
    ].join('\n'));
    expect(log.stopMessage()).toBe('recovery stopping before commit of transaction 2371, time 2026-11-23 13:01:33.130853+00');
    expect(recoveryFailed(log)).toMatchObject({
      code: 'USAGE', message: 'PostgreSQL recovery failed: requested recovery stop point is before consistent recovery point',
    });
  });

  it('calls missing WAL NOT_FOUND, with the DETAIL', () => {
    const log = logOf(`${prefix}FATAL:  WAL ends before end of online backup\n${prefix}DETAIL:  All WAL generated while online backup was taken must be available at recovery.\n`);
    expect(recoveryFailed(log)).toMatchObject({
      code: 'NOT_FOUND',
      message: 'PostgreSQL recovery failed: WAL ends before end of online backup (All WAL generated while online backup was taken must be available at recovery.)',
    });
  });

  it('falls back to the last line without a FATAL', () => {
    expect(recoveryFailed(logOf(`${prefix}LOG:  something odd\n`))).toMatchObject({ code: 'INTERNAL', message: expect.stringMatching(/something odd$/) });
  });

  it('notices when the server accepts connections', () => {
    const log = logOf('2026-11-23 13:01:43.2 UTC [1] postmaster LOG:  database system is ready to accept read-only connections\n');
    expect(log.acceptsConnections()).toBe(true);
    expect(logOf(`${prefix}LOG:  redo starts at 0/2000028\n`).acceptsConnections()).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { maintenanceIntervals, type MaintenanceWindowConfig } from './maintenance.js';

const M = 60_000;
const H = 60 * M;
const T = Date.UTC(2024, 0, 2); // a Tuesday
const W = { start: T, end: T + 48 * H };

describe('maintenanceIntervals', () => {
  it('enumerates a cron schedule inside the window', () => {
    const windows: MaintenanceWindowConfig[] = [
      { name: 'nightly', services: ['api'], schedule: { cron: '0 2 * * *', timezone: 'UTC' }, duration: H },
    ];
    expect(maintenanceIntervals(windows, W)).toEqual([
      { name: 'nightly', start: T + 2 * H, end: T + 3 * H },
      { name: 'nightly', start: T + 26 * H, end: T + 27 * H },
    ]);
  });

  it('includes an occurrence that began before the window, and clips at both ends', () => {
    const windows: MaintenanceWindowConfig[] = [
      { name: 'late', services: ['api'], schedule: { cron: '30 23 * * *', timezone: 'UTC' }, duration: H },
    ];
    expect(maintenanceIntervals(windows, W)).toEqual([
      { name: 'late', start: T, end: T + 30 * M },
      { name: 'late', start: T + 23 * H + 30 * M, end: T + 24 * H + 30 * M },
      { name: 'late', start: T + 47 * H + 30 * M, end: T + 48 * H },
    ]);
  });

  it('follows the schedule time zone', () => {
    const windows: MaintenanceWindowConfig[] = [
      { name: 'berlin', services: ['api'], schedule: { cron: '0 2 * * *', timezone: 'Europe/Berlin' }, duration: 30 * M },
    ];
    // 02:00 CET is 01:00 UTC in January.
    expect(maintenanceIntervals(windows, W).map((i) => i.start)).toEqual([T + H, T + 25 * H]);
  });

  it('takes one-off windows and filters by service', () => {
    const windows: MaintenanceWindowConfig[] = [
      { name: 'migration', services: ['db'], start: '2024-01-02T06:00:00+01:00', duration: 2 * H },
      { name: 'upgrade', services: ['api', 'db'], start: '2024-01-03T10:00:00Z', duration: H },
      { name: 'long-ago', services: ['api'], start: '2023-01-01T00:00:00Z', duration: H },
    ];
    expect(maintenanceIntervals(windows, W, 'api')).toEqual([{ name: 'upgrade', start: T + 34 * H, end: T + 35 * H }]);
    expect(maintenanceIntervals(windows, W, 'db')).toEqual([
      { name: 'migration', start: T + 5 * H, end: T + 7 * H },
      { name: 'upgrade', start: T + 34 * H, end: T + 35 * H },
    ]);
  });

  it('merges overlapping occurrences of one entry', () => {
    const windows: MaintenanceWindowConfig[] = [
      { name: 'often', services: ['api'], schedule: { cron: '0 * * * *', timezone: 'UTC' }, duration: 90 * M },
    ];
    expect(maintenanceIntervals(windows, { start: T, end: T + 3 * H })).toEqual([{ name: 'often', start: T, end: T + 3 * H }]);
  });
});

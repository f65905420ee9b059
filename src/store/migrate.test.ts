import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { BulwarkError } from '../core/errors.js';
import { silentLogger } from '../core/logger.js';
import { SqliteDriver } from './sqlite.js';
import { readSchemaVersion, runMigrations } from './migrate.js';
import type { Migration } from './migrations.js';

let dir: string;
let driver: SqliteDriver;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bulwark-migrate-'));
  driver = SqliteDriver.open(join(dir, 'x.db'), 1000);
});
afterEach(async () => {
  await driver.close();
  await rm(dir, { recursive: true, force: true });
});

const ok: Migration = { version: 1, name: 'one', sqlite: 'CREATE TABLE one (x INTEGER)', postgres: '' };
const bad: Migration = {
  version: 2, name: 'two', sqlite: 'CREATE TABLE two (x INTEGER); INSERT INTO nowhere VALUES (1)', postgres: '',
};

it('stops at a failing migration, rolls it back and says where the store was left', async () => {
  const err = await runMigrations(driver, [ok, bad], silentLogger()).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(BulwarkError);
  expect((err as BulwarkError).code).toBe('STORE_MIGRATION_FAILED');
  expect((err as BulwarkError).message).toMatch(/migration 2 \(two\).*nowhere/);
  expect((err as BulwarkError).hint).toContain('schema version 1');
  expect(await readSchemaVersion(driver, 'sqlite')).toBe(1);
  expect(await driver.all(`SELECT name FROM sqlite_master WHERE name = 'two'`)).toEqual([]);
});

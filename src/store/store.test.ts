import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BulwarkError } from '../core/errors.js';
import { LATEST_SCHEMA_VERSION, openPostgresStore, openSqliteStore, openStore, type Store } from './index.js';
import { probeHistorySuite } from './testing/probe-history-suite.js';
import { backupRunsSuite } from './testing/backup-runs-suite.js';
import { alertingSuite } from './testing/alerting-suite.js';
import { statusSubscribersSuite } from './testing/status-subscribers-suite.js';
import { startPostgres, type PostgresServer } from '../testing/postgres-server.js';

type Row = Record<string, unknown>;

/** Direct access to the database behind a store, bypassing it. */
interface Raw {
  all(sql: string): Promise<Row[]>;
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

interface Backend {
  /** A store over a fresh, empty database, plus a way to open more stores on it. */
  fresh(): Promise<{ open(): Promise<Store>; raw(): Promise<Raw> }>;
}

const TABLES_SQL = {
  sqlite: `SELECT name FROM sqlite_master WHERE type IN ('table', 'index') ORDER BY name`,
  postgres: `SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY name`,
};

async function caught(promise: Promise<unknown>): Promise<BulwarkError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(BulwarkError);
  return err as BulwarkError;
}

function storeSuite(name: 'sqlite' | 'postgres', backend: () => Backend): void {
  describe(`store (${name})`, () => {
    let store: Store;
    let db: { open(): Promise<Store>; raw(): Promise<Raw> };
    const extra: Array<{ close(): Promise<void> }> = [];

    beforeEach(async () => {
      db = await backend().fresh();
      store = await db.open();
    });
    afterEach(async () => {
      await Promise.all(extra.splice(0).map((c) => c.close()));
      await store.close();
    });

    async function raw(): Promise<Raw> {
      const r = await db.raw();
      extra.push(r);
      return r;
    }

    it('migrates an empty database to the latest version', async () => {
      expect(await store.schemaVersion()).toBe(0);
      expect(await store.migrate()).toEqual({ from: 0, to: LATEST_SCHEMA_VERSION });
      expect(await store.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
      const rows = await (await raw()).all('SELECT version, name, applied_at FROM schema_migrations ORDER BY version');
      expect(rows.map((r) => Number(r.version))).toEqual(Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1));
      expect(rows.every((r) => typeof r.name === 'string' && r.applied_at)).toBe(true);
    });

    it('is idempotent', async () => {
      await store.migrate();
      expect(await store.migrate()).toEqual({ from: LATEST_SCHEMA_VERSION, to: LATEST_SCHEMA_VERSION });
    });

    it('lets concurrent migrators both succeed', async () => {
      const other = await db.open();
      extra.push(other);
      const results = await Promise.all([store.migrate(), other.migrate()]);
      expect(results.map((r) => r.to)).toEqual([LATEST_SCHEMA_VERSION, LATEST_SCHEMA_VERSION]);
      const rows = await (await raw()).all('SELECT version FROM schema_migrations');
      expect(rows).toHaveLength(LATEST_SCHEMA_VERSION);
    });

    it('refuses a schema newer than it knows, and changes nothing', async () => {
      await store.migrate();
      const r = await raw();
      const newer = LATEST_SCHEMA_VERSION + 1;
      await r.exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (${newer}, 'future', '2030-01-01T00:00:00Z')`);
      const snapshot = async (): Promise<unknown> => [
        await r.all(TABLES_SQL[name]),
        await r.all('SELECT version, name FROM schema_migrations ORDER BY version'),
      ];
      const before = await snapshot();
      const err = await caught(store.migrate());
      expect(err.code).toBe('STORE_SCHEMA_TOO_NEW');
      expect(err.message).toContain(String(newer));
      expect(err.message).toContain(String(LATEST_SCHEMA_VERSION));
      expect(err.hint).toMatch(/upgrade the binary.*--data-dir/);
      expect(await snapshot()).toEqual(before);
      expect(await store.schemaVersion()).toBe(newer);
    });

    describe('after migrating', () => {
      beforeEach(async () => {
        await store.migrate();
      });

      it('creates, finds, lists and revokes tokens', async () => {
        const created = await store.createToken({ name: 'ci', hash: 'h1', prefix: 'bwk_abcd' });
        expect(created).toMatchObject({ name: 'ci', prefix: 'bwk_abcd', lastUsedAt: null, revokedAt: null });
        expect(created).not.toHaveProperty('hash');
        expect(await store.findTokenByHash('h1')).toEqual(created);
        expect(await store.findTokenByHash('nope')).toBeNull();

        await store.touchToken(created.id);
        expect((await store.findTokenByHash('h1'))?.lastUsedAt).toMatch(/^\d{4}-/);

        const revoked = await store.revokeToken('ci');
        expect(revoked.revokedAt).toMatch(/^\d{4}-/);
        expect(await store.findTokenByHash('h1')).toBeNull();
        expect((await caught(store.revokeToken('ci'))).code).toBe('NOT_FOUND');

        // The name is free again once revoked.
        await store.createToken({ name: 'ci', hash: 'h2', prefix: 'bwk_efgh' });
        const list = await store.listTokens();
        expect(list.map((t) => [t.name, t.revokedAt === null])).toEqual([['ci', false], ['ci', true]]);
      });

      it('rejects a duplicate active token name', async () => {
        await store.createToken({ name: 'ops', hash: 'a', prefix: 'bwk_a' });
        const err = await caught(store.createToken({ name: 'ops', hash: 'b', prefix: 'bwk_b' }));
        expect(err.code).toBe('BAD_REQUEST');
        expect(err.message).toContain('"ops"');
        expect(await store.listTokens()).toHaveLength(1);
      });

      it('appends events and reads the recent ones, newest first', async () => {
        await store.appendEvent({ subsystem: 'checks', kind: 'down', subject: 'db', data: { latencyMs: 12, ok: false } });
        await store.appendEvent({ subsystem: 'failover', kind: 'started', subject: 'db' });
        await store.appendEvent({ subsystem: 'checks', kind: 'up', subject: 'db', data: [1, 'two'] });

        const all = await store.recentEvents({ limit: 10 });
        expect(all.map((e) => e.kind)).toEqual(['up', 'started', 'down']);
        expect(all[1]?.data).toBeNull();
        expect(all[2]).toMatchObject({ subsystem: 'checks', subject: 'db', data: { latencyMs: 12, ok: false } });
        expect(all[0]?.at).toMatch(/^\d{4}-\d\d-\d\dT/);

        expect((await store.recentEvents({ limit: 1 })).map((e) => e.kind)).toEqual(['up']);
        const checks = await store.recentEvents({ limit: 10, subsystem: 'checks' });
        expect(checks.map((e) => e.data)).toEqual([[1, 'two'], { latencyMs: 12, ok: false }]);
      });

      it('records config revisions', async () => {
        expect(await store.latestConfigRevision()).toBeNull();
        await store.recordConfigRevision({ checksum: 'sha256:aa', source: 'bulwark.yaml' });
        const second = await store.recordConfigRevision({ checksum: 'sha256:bb', source: 'api' });
        expect(await store.latestConfigRevision()).toEqual(second);
        expect(second).toMatchObject({ checksum: 'sha256:bb', source: 'api', text: null });
        const third = await store.recordConfigRevision({ checksum: 'sha256:cc', source: 'bulwark.yaml', text: 'name: three\n' });
        expect((await store.listConfigRevisions(2)).map((r) => r.checksum)).toEqual(['sha256:cc', 'sha256:bb']);
        expect(await store.configRevision(third.id)).toMatchObject({ text: 'name: three\n' });
        expect(await store.configRevision(9_999)).toBeNull();
      });

      probeHistorySuite(() => store);
      backupRunsSuite(() => store);
      alertingSuite(() => store);
      statusSubscribersSuite(() => store);

      it('closes twice without error', async () => {
        await store.close();
        await store.close();
      });
    });
  });
}

// --- SQLite ------------------------------------------------------------------

const sqliteDirs: string[] = [];
afterAll(async () => {
  await Promise.all(sqliteDirs.map((d) => rm(d, { recursive: true, force: true })));
});

function sqliteRaw(path: string): Raw {
  const db = new Database(path);
  return {
    all: async (sql) => db.prepare(sql).all() as Row[],
    exec: async (sql) => { db.exec(sql); },
    close: async () => { db.close(); },
  };
}

storeSuite('sqlite', () => ({
  async fresh() {
    const dir = await mkdtemp(join(tmpdir(), 'bulwark-store-'));
    sqliteDirs.push(dir);
    const path = join(dir, 'nested', 'bulwark.db');
    return { open: () => openSqliteStore({ path }), raw: async () => sqliteRaw(path) };
  },
}));

describe('openStore', () => {
  it('opens <dataDir>/bulwark.db when no PostgreSQL URL is given', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bulwark-store-'));
    sqliteDirs.push(dir);
    const store = await openStore({ dataDir: dir });
    expect(store.dialect).toBe('sqlite');
    await store.migrate();
    await store.close();
    expect(existsSync(join(dir, 'bulwark.db'))).toBe(true);
  });
});

// --- PostgreSQL --------------------------------------------------------------

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});

async function pgRaw(url: string): Promise<Raw> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    all: async (sql) => (await client.query(sql)).rows as Row[],
    exec: async (sql) => { await client.query(sql); },
    close: () => client.end(),
  };
}

storeSuite('postgres', () => ({
  async fresh() {
    const url = await server.createDatabase();
    return { open: () => openPostgresStore({ url }), raw: () => pgRaw(url) };
  },
}));

describe('PostgreSQL store errors', () => {
  const password = 'hunter2-very-secret';

  function expectNoPassword(err: BulwarkError): void {
    for (const text of [err.message, err.hint ?? '', err.describe(), JSON.stringify(err), JSON.stringify(err.context), String(err.cause ?? '')]) {
      expect(text).not.toContain(password);
    }
  }

  async function unusedPort(): Promise<number> {
    const srv = createServer();
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const { port } = srv.address() as { port: number };
    await new Promise((resolve) => srv.close(resolve));
    return port;
  }

  it('reports an unreachable server as STORE_UNAVAILABLE without the password', async () => {
    const url = `postgres://bulwark:${password}@127.0.0.1:${await unusedPort()}/bulwark`;
    const err = await caught(openStore({ dataDir: '/nonexistent', postgres: url }));
    expect(err.code).toBe('STORE_UNAVAILABLE');
    expect(err.message).toContain('127.0.0.1');
    expect(err.hint).toMatch(/PostgreSQL is running/);
    expectNoPassword(err);
  });

  it('reports a wrong password as STORE_UNAVAILABLE without the password', async () => {
    const url = new URL(server.url);
    url.password = password;
    const err = await caught(openPostgresStore({ url: url.toString() }));
    expect(err.code).toBe('STORE_UNAVAILABLE');
    expect(err.message).toMatch(/password authentication failed/);
    expectNoPassword(err);
  });
});

/**
 * Where `bulwark demo db` keeps everything, under DATA_DIR/demo-db/, and what it
 * needs before it starts anything: a lock (one demo per directory), the OS user
 * PostgreSQL runs as, the superuser's password (and a libpq passfile for psql),
 * and ports that stay the same from one run to the next when they are free.
 *
 *   bulwark.yaml   the configuration, written at every start
 *   state.json     the ports of the last run
 *   pg.pass        the superuser's password (referenced as ${file:pg.pass})
 *   pgpass         a libpq passfile for psql (PGPASSFILE=...)
 *   etcd/ etcd.log the etcd member's data and log
 *   pg1/ pg2/ pg3/ the PostgreSQL data directories; sock/ their Unix sockets
 *   daemon.log     the daemon's log (JSON lines), unless --verbose
 *   bulwark.db     the daemon's store
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BulwarkError } from '../core/errors.js';
import { freePort } from '../core/net.js';
import { isPortFree } from './ports.js';
import { processAlive } from '../core/process.js';

const execFileAsync = promisify(execFile);

export const DEMO_DB_MEMBERS = ['pg1', 'pg2', 'pg3'] as const;
export type DemoDbMemberName = (typeof DEMO_DB_MEMBERS)[number];

/** The ports of one run; kept in state.json so that the next run takes the same ones when they are free. */
export interface DemoDbPorts {
  etcdClient: number;
  etcdPeer: number;
  frontDoor: number;
  api: number;
  members: Record<DemoDbMemberName, number>;
}

export interface DemoDbRunAs {
  name: string;
  uid: number;
  gid: number;
}

/** The user and database the demo's writer (and you, with psql) use through the front door. */
export const DEMO_DB_USER = 'postgres';
export const DEMO_DB_DATABASE = 'demo';
export const DEMO_DB_TABLE = 'demo_writes';
/** The database name in bulwark.yaml (`bulwark db status main`). */
export const DEMO_DB_NAME = 'main';

/** Unix socket paths are limited to 107 bytes; PostgreSQL appends `/.s.PGSQL.NNNNN.lock`. */
const MAX_SOCKET_DIR = 85;
const INITIALISED = '.initialised';

export class DemoDbLayout {
  readonly config: string;
  readonly state: string;
  readonly passwordFile: string;
  readonly pgpass: string;
  readonly etcdDir: string;
  readonly etcdLog: string;
  readonly daemonLog: string;
  readonly socketDir: string | undefined;
  private readonly lockFile: string;
  private locked = false;

  private constructor(readonly dir: string, readonly runAs: DemoDbRunAs | undefined) {
    this.config = join(dir, 'bulwark.yaml');
    this.state = join(dir, 'state.json');
    this.passwordFile = join(dir, 'pg.pass');
    this.pgpass = join(dir, 'pgpass');
    this.etcdDir = join(dir, 'etcd');
    this.etcdLog = join(dir, 'etcd.log');
    this.daemonLog = join(dir, 'daemon.log');
    this.lockFile = join(dir, 'demo.pid');
    const sock = join(dir, 'sock');
    this.socketDir = sock.length <= MAX_SOCKET_DIR ? sock : undefined;
  }

  /**
   * Creates DATA_DIR/demo-db (mode 755: the PostgreSQL user must reach its data directories
   * inside), takes the lock, and checks that the run_as user can get there. Writes nothing else.
   */
  static async open(dir: string): Promise<DemoDbLayout> {
    const runAs = await demoRunAs();
    const existed = await stat(dir).then(() => true, () => false);
    await mkdir(dir, { recursive: true, mode: 0o755 });
    if (!existed) await chmod(dir, 0o755);
    const layout = new DemoDbLayout(dir, runAs);
    layout.lock();
    try {
      if (runAs) await checkReachable(dir, runAs);
    } catch (err) {
      layout.release();
      throw err;
    }
    return layout;
  }

  dataDir(member: DemoDbMemberName): string {
    return join(this.dir, member);
  }

  /** A first run that completed `db init` leaves a marker; without it the data directories are the demo's own leftovers. */
  async initialised(): Promise<boolean> {
    return stat(join(this.dir, INITIALISED)).then(() => true, () => false);
  }

  async markInitialised(): Promise<void> {
    await writeFile(join(this.dir, INITIALISED), `${new Date().toISOString()}\n`);
  }

  /** Data directories of a first run that did not finish: `db init` refuses non-empty ones. */
  async removeUnfinishedInit(): Promise<string[]> {
    const removed: string[] = [];
    for (const m of DEMO_DB_MEMBERS) {
      const dir = this.dataDir(m);
      if (await stat(dir).then(() => true, () => false)) {
        await rm(dir, { recursive: true, force: true });
        removed.push(dir);
      }
    }
    return removed;
  }

  /** The superuser's password (made at the first run), and a libpq passfile holding it for psql. */
  async ensurePassword(): Promise<void> {
    let password = (await readFile(this.passwordFile, 'utf8').catch(() => '')).trim();
    if (password === '') {
      password = `demo-${randomBytes(12).toString('hex')}`;
      await writeFile(this.passwordFile, `${password}\n`, { mode: 0o600 });
    }
    await writeFile(this.pgpass, `127.0.0.1:*:*:${DEMO_DB_USER}:${password}\n`, { mode: 0o600 });
    await chmod(this.pgpass, 0o600);
  }

  async password(): Promise<string> {
    return (await readFile(this.passwordFile, 'utf8')).trim();
  }

  /** The last run's ports where they are still free, else free ones the kernel picks; saved for the next run. */
  async ports(): Promise<DemoDbPorts> {
    const previous = await readFile(this.state, 'utf8').then((t) => (JSON.parse(t) as { ports?: Partial<DemoDbPorts> }).ports, () => undefined);
    const taken = new Set<number>();
    const pick = async (wanted: number | undefined): Promise<number> => {
      if (wanted !== undefined && !taken.has(wanted) && (await isPortFree(wanted))) {
        taken.add(wanted);
        return wanted;
      }
      for (;;) {
        const port = await freePort();
        if (!taken.has(port)) {
          taken.add(port);
          return port;
        }
      }
    };
    const ports: DemoDbPorts = {
      etcdClient: await pick(previous?.etcdClient),
      etcdPeer: await pick(previous?.etcdPeer),
      frontDoor: await pick(previous?.frontDoor),
      api: await pick(previous?.api),
      members: { pg1: 0, pg2: 0, pg3: 0 },
    };
    for (const m of DEMO_DB_MEMBERS) ports.members[m] = await pick(previous?.members?.[m]);
    await writeFile(this.state, `${JSON.stringify({ ports }, null, 2)}\n`);
    return ports;
  }

  /** Removes the lock if it is still ours; safe to call twice, and from `process.on('exit')`. */
  release(): void {
    if (!this.locked) return;
    this.locked = false;
    try {
      if (readFileSync(this.lockFile, 'utf8').trim() === String(process.pid)) unlinkSync(this.lockFile);
    } catch {
      // already gone
    }
  }

  private lock(): void {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.lockFile, 'wx', 0o644);
        try {
          writeSync(fd, `${process.pid}\n`);
        } finally {
          closeSync(fd);
        }
        this.locked = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = Number(readFileSync(this.lockFile, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && processAlive(holder)) {
        throw new BulwarkError('DATA_DIR_LOCKED', `another \`bulwark demo db\` (pid ${holder}) runs in ${this.dir}`, {
          hint: `stop it first (kill ${holder}), or give this one another --data-dir`,
        });
      }
      unlinkSync(this.lockFile); // a demo that was killed: its processes died with it
    }
    throw new BulwarkError('DATA_DIR_LOCKED', `could not take the lock ${this.lockFile}`, { hint: 'another demo is starting in the same directory; try again' });
  }
}

/**
 * PostgreSQL refuses to run as root: as root, the demo runs it as `postgres`
 * (Debian's and Ubuntu's postgresql packages create that user). Not root: as
 * this process's own user.
 */
export async function demoRunAs(uid = process.getuid?.()): Promise<DemoDbRunAs | undefined> {
  if (uid !== 0) return undefined;
  try {
    const [u, g] = await Promise.all([
      execFileAsync('id', ['-u', '--', DEMO_DB_USER]).then((r) => Number(r.stdout.trim())),
      execFileAsync('id', ['-g', '--', DEMO_DB_USER]).then((r) => Number(r.stdout.trim())),
    ]);
    return { name: DEMO_DB_USER, uid: u, gid: g };
  } catch {
    throw new BulwarkError('USAGE', 'bulwark demo db runs as root, PostgreSQL refuses to run as root, and there is no "postgres" user to run it as', {
      hint: 'run the demo as an ordinary user; or install PostgreSQL from your distribution, which creates the postgres user ' +
        '(Debian and Ubuntu: apt-get install postgresql); or create it: useradd --system --user-group --home-dir /var/lib/postgresql postgres',
    });
  }
}

/** `test -x DIR` as the run_as user (no supplementary groups): every parent directory must let it through. */
async function checkReachable(dir: string, runAs: DemoDbRunAs): Promise<void> {
  try {
    await execFileAsync('test', ['-x', dir], { uid: runAs.uid, gid: runAs.gid });
  } catch {
    throw new BulwarkError('USAGE', `PostgreSQL runs as "${runAs.name}", which cannot reach ${dir}: a parent directory is closed to other users`, {
      hint: `open the parent directories to others (chmod o+x on each of them), or choose a --data-dir that user can reach, e.g. --data-dir /var/tmp/bulwark-demo`,
    });
  }
}

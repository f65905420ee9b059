import { z } from 'zod';
import { duration, exactlyOne, httpUrl, listenAddress, name, policySchedule, port, positiveInt, schedule } from './fields.js';

const s3 = z.strictObject({
  endpoint: httpUrl().optional(),
  bucket: z.string().min(3),
  region: z.string().default('us-east-1'),
  prefix: z.string().default(''),
  access_key_id: z.string().optional(),
  secret_access_key: z.string().optional(),
  force_path_style: z.boolean().default(true),
});

const sftp = z.strictObject({
  host: z.string().min(1),
  port: port().default(22),
  user: z.string().min(1),
  path: z.string().min(1),
  private_key_file: z.string().optional(),
  password: z.string().optional(),
});

const repository = z
  .strictObject({
    path: z.string().min(1).optional(), s3: s3.optional(), sftp: sftp.optional(), password: z.string().optional(),
    /** Where the repository lives; `check` uses it to find backups that one region's loss would take with it. */
    region: name().optional(),
  })
  .superRefine(exactlyOne(['path', 's3', 'sftp'], 'a backup repository'));

const source = z
  .strictObject({
    postgres: name().optional(),
    redis: name().optional(),
    paths: z.array(z.string().min(1)).min(1).optional(),
    stdin: name().optional(),
    exclude: z.array(z.string()).default([]),
    one_file_system: z.boolean().default(false),
  })
  .superRefine(exactlyOne(['postgres', 'redis', 'paths', 'stdin'], 'a backup source'));

const retention = z.strictObject({
  keep_last: positiveInt().optional(),
  hourly: positiveInt().optional(),
  daily: positiveInt().optional(),
  weekly: positiveInt().optional(),
  monthly: positiveInt().optional(),
  yearly: positiveInt().optional(),
  keep_within: duration().optional(),
});

/**
 * `wal_archiving: true` archives each WAL file from archive_command itself;
 * `{ spool: DIR }` hands it to a long-lived archiver that ships several at once
 * (pgBackRest's archive-async). Either way a file is reported archived only
 * once every repository of `copies` holds it.
 */
const walArchiving = z.union([
  z.boolean(),
  z.strictObject({
    async: z.boolean().default(true),
    spool: z.string().min(1).regex(/^\//, { message: 'expected an absolute path such as /var/spool/bulwark' }),
    parallel: z.number().int().min(1).max(32).default(4),
    timeout: duration().default(60_000),
  }),
]);

/** A copy is a repository name, or `{ repository, retention }` for a copy that keeps its own history (a long-term archive). */
const copy = z.union([name(), z.strictObject({ repository: name(), retention: retention.optional() })]);

const policy = z
  .strictObject({
    source,
    schedule: policySchedule(),
    /** With `schedule: on change`: quiet time after a change before the run, and the least time between runs. */
    watch: z.strictObject({ debounce: duration().default(5_000), min_interval: duration().default(60_000) }).default({ debounce: 5_000, min_interval: 60_000 }),
    wal_archiving: walArchiving.default(false),
    retention: retention.optional(),
    copies: z.array(copy).min(1, { message: 'expected at least one repository in copies' }),
    compression: z.enum(['auto', 'off', 'max']).default('auto'),
    verify: z.strictObject({ schedule: schedule(), read_data_subset: z.string().optional() }).optional(),
  })
  .transform(({ copies, wal_archiving, ...rest }) => ({
    ...rest,
    wal_archiving: wal_archiving !== false,
    /** Asynchronous archiving, when `wal_archiving` names a spool and does not turn `async` off. */
    wal_async: typeof wal_archiving === 'object' && wal_archiving.async
      ? { spool: wal_archiving.spool, parallel: wal_archiving.parallel, timeoutMs: wal_archiving.timeout }
      : undefined,
    /** Repository names, the first being where backups are made. */
    copies: copies.map((c) => (typeof c === 'string' ? c : c.repository)),
    /** Retention of the copies that have their own; the others follow `retention`. */
    copy_retention: Object.fromEntries(copies.flatMap((c) => (typeof c !== 'string' && c.retention ? [[c.repository, c.retention]] : []))) as Record<string, RetentionConfig>,
  }));

export type RetentionConfig = z.output<typeof retention>;

export const backupsSchema = z.strictObject({
  repositories: z.record(name(), repository).default({}),
  policies: z.record(name(), policy).default({}),
});

/** The public status page: its own listener, never the admin API's. */
export const statusPageSchema = z.strictObject({
  title: z.string().min(1),
  description: z.string().optional(),
  public: z.boolean().default(true),
  path: z.string().startsWith('/', { message: 'expected a path starting with "/"' }).default('/status'),
  listen: listenAddress().default('127.0.0.1:9181'),
  /** Where the public reaches the page; absolute links in the feeds and the JSON use it. */
  public_url: httpUrl().optional(),
  /** The components shown, services or databases; every one by default. */
  services: z.array(name()).optional(),
  /** Group name → its components; by default grouped by the region of their endpoints' or members' zones. */
  groups: z.record(z.string().min(1).max(100), z.array(name()).min(1)).optional(),
  history_days: z.number().int().min(1).max(365).default(90),
  /** Updates to subscribers: email through an alerting email channel (double opt-in), webhooks through the built-in status-subscribers channel. */
  subscriptions: z.strictObject({
    email_channel: name().optional(),
    webhooks: z.boolean().default(true),
    confirm_within: duration().default(48 * 3_600_000),
  }).default({ webhooks: true, confirm_within: 48 * 3_600_000 }),
  /** Requests per minute per client address. */
  rate_limit: z.number().int().min(1).max(1_000_000).default(300),
});

export const maintenanceSchema = z.array(
  z.strictObject({
    name: name(),
    services: z.array(name()).min(1),
    schedule: schedule().optional(),
    start: z.string().datetime({ offset: true }).optional(),
    duration: duration(),
  }).superRefine(exactlyOne(['schedule', 'start'], 'a maintenance window')),
);

export { drTestingSchema } from './schema-drills.js';

/**
 * Short conversations with a Sentinel or a Redis member: one connection, a
 * few commands, a deadline. Passwords go in AUTH, never into messages.
 */
import { ProtocolError, RespConnection, type RespValue } from '../core/resp.js';

const MAX_REPLY_BYTES = 1_048_576;

export interface Address { host: string; port: number }

export interface Endpoint extends Address {
  password?: string;
  timeoutMs: number;
}

/** Runs `commands` in order on one connection and returns their replies. */
export async function ask(endpoint: Endpoint, commands: string[][]): Promise<RespValue[]> {
  const connection = new RespConnection(endpoint.host, endpoint.port, MAX_REPLY_BYTES);
  const timer = setTimeout(() => connection.destroy(new Error(`no answer from ${endpoint.host}:${endpoint.port} within ${endpoint.timeoutMs} ms`)), endpoint.timeoutMs);
  try {
    await connection.connected();
    if (endpoint.password !== undefined) await connection.command(['AUTH', endpoint.password]);
    const replies: RespValue[] = [];
    for (const command of commands) replies.push(await connection.command(command));
    return replies;
  } catch (err) {
    throw scrubbed(err, endpoint.password);
  } finally {
    clearTimeout(timer);
    connection.destroy();
  }
}

function scrubbed(err: unknown, password: string | undefined): Error {
  const message = err instanceof Error ? err.message : String(err);
  if (password === undefined || !message.includes(password)) return err instanceof Error ? err : new Error(message);
  return new Error(message.split(password).join('***'));
}

/** A flat `[k1, v1, k2, v2, …]` reply (SENTINEL MASTER, SENTINEL REPLICAS entries) as a map. */
export function pairs(value: RespValue): Map<string, string> {
  if (!Array.isArray(value)) throw new ProtocolError('expected a list of fields');
  const out = new Map<string, string>();
  for (let i = 0; i + 1 < value.length; i += 2) out.set(String(value[i]), String(value[i + 1]));
  return out;
}

/** What one Sentinel says of the master it monitors under `name`. */
export interface SentinelView {
  sentinel: string;
  master: Address;
  /** Sentinel's configuration epoch: the newest configuration wins. */
  epoch: number;
  /** `s_down`, `o_down`, `failover_in_progress`, … from Sentinel's flags. */
  flags: string[];
  /** Other Sentinels this one knows of, itself excluded. */
  knownSentinels: number;
}

export async function sentinelView(sentinel: Endpoint, name: string): Promise<SentinelView> {
  const [reply] = await ask(sentinel, [['SENTINEL', 'MASTER', name]]);
  const fields = pairs(reply ?? null);
  const port = Number(fields.get('port'));
  if (!fields.get('ip') || !Number.isInteger(port)) throw new ProtocolError(`SENTINEL MASTER ${name} has no ip/port`);
  return {
    sentinel: `${sentinel.host}:${sentinel.port}`,
    master: { host: fields.get('ip')!, port },
    epoch: Number(fields.get('config-epoch') ?? 0),
    flags: (fields.get('flags') ?? '').split(',').filter((f) => f !== ''),
    knownSentinels: Number(fields.get('num-other-sentinels') ?? 0),
  };
}

/** `SENTINEL get-master-addr-by-name`: the address alone, as every Sentinel client asks it. */
export async function masterAddress(sentinel: Endpoint, name: string): Promise<Address | undefined> {
  const [reply] = await ask(sentinel, [['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name]]);
  if (!Array.isArray(reply) || reply.length < 2) return undefined;
  return { host: String(reply[0]), port: Number(reply[1]) };
}

/** `INFO replication` of a member as key → value. */
export async function replicationInfo(member: Endpoint): Promise<Map<string, string>> {
  const [reply] = await ask(member, [['INFO', 'replication']]);
  if (typeof reply !== 'string') throw new ProtocolError('INFO did not answer a bulk string');
  const fields = new Map<string, string>();
  for (const line of reply.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (!line.startsWith('#') && colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

export interface Subscription { close(): void }

/**
 * Subscribes to `+switch-master` on one Sentinel; `onSwitch` gets the new master's
 * address for `name`, `onClose` the end of the connection (the caller reconnects).
 */
export async function subscribeSwitchMaster(
  sentinel: Endpoint, name: string, onSwitch: (master: Address) => void, onClose: (err: Error) => void,
): Promise<Subscription> {
  const connection = new RespConnection(sentinel.host, sentinel.port, MAX_REPLY_BYTES, {
    onMessage: (value) => {
      if (!Array.isArray(value) || value[0] !== 'message' || value[1] !== '+switch-master') return;
      // "<name> <old-ip> <old-port> <new-ip> <new-port>"
      const [master, , , host, port] = String(value[2]).split(' ');
      if (master === name && host !== undefined) onSwitch({ host, port: Number(port) });
    },
    onClose,
  });
  const timer = setTimeout(() => connection.destroy(new Error(`no answer from Sentinel ${sentinel.host}:${sentinel.port}`)), sentinel.timeoutMs);
  try {
    await connection.connected();
    if (sentinel.password !== undefined) await connection.command(['AUTH', sentinel.password]);
    await connection.command(['SUBSCRIBE', '+switch-master']);
  } catch (err) {
    connection.destroy();
    throw scrubbed(err, sentinel.password);
  } finally {
    clearTimeout(timer);
  }
  return { close: () => connection.destroy(new Error('unsubscribed')) };
}

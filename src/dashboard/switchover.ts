import { BulwarkError } from '../core/errors.js';
import type { BulwarkConfig } from '../config/index.js';
import { openDb, requestSwitchover } from '../postgres-ha/index.js';
import type { Switchover } from './deps.js';

/** A switchover request written to etcd, as `bulwark db switchover` writes it; the leader's manager carries it out. */
export function etcdSwitchover(config: () => BulwarkConfig): Switchover {
  return async (database, to) => {
    const target = openDb(config(), database);
    try {
      if (!target.etcd) {
        throw new BulwarkError('BAD_REQUEST', `${database} has no coordination.etcd: the dashboard can only request switchovers through etcd`, { hint: `on the primary's host: bulwark db switchover ${database}` });
      }
      const written = await requestSwitchover({ etcd: target.etcd.client, keys: target.etcd.keys, topology: target.topology }, to);
      return { from: written.from, to: written.to };
    } finally {
      await target.close();
    }
  };
}

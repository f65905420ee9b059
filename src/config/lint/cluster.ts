import type { Finding } from '../diagnostics.js';
import type { BulwarkConfig } from '../schema.js';

/** A cluster of daemons keeps its membership and duty leases in etcd: without coordination.etcd it cannot form. */
export function lintCluster(config: BulwarkConfig): Finding[] {
  if (!config.cluster || config.coordination?.etcd) return [];
  return [{
    severity: 'error', rule: 'lint.cluster_without_etcd', path: ['cluster'],
    message: 'cluster is set, but coordination.etcd is not: the daemons keep their membership and one lease per singleton duty in etcd',
    hint: 'add coordination.etcd with the endpoints every daemon can reach, or remove cluster: to run every duty in one daemon',
  }];
}

export { EtcdClient, type EtcdClientOptions, type GetResult, type Lease, type TxnResult, type CallOptions, type KeyValue, type LeaseId, type WatchEvent } from './etcd-client.js';
export { LeaderLease, type LeaderLeaseOptions, type LeaderLeaseEvents, type LeaderLeaseState } from './leader-lease.js';
export { readHolder, waitForVacancy, type Holder, type LeaseStore } from './leader-key.js';
export { CallDeadline } from './deadline.js';

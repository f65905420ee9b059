export { RedisHaService, type RedisHaServiceOptions } from './redis-ha-service.js';
export { MasterTracker, chooseNewest, type MasterAddress, type MasterTrackerOptions, type SentinelAnswer, type TrackedMember } from './master-tracker.js';
export { masterTrackerFactory } from './tracker-factory.js';
export { memberConf, sentinelConf, redisQuote } from './conf.js';
export { RedisProcess, type RedisProcessOptions } from './redis-process.js';
export { ask, masterAddress, replicationInfo, sentinelView, type Address, type Endpoint, type SentinelView } from './sentinel-query.js';
export { readRedisStatus, requestRedisFailover, type RedisStatus, type RedisMemberStatus, type SentinelStatus } from './operator.js';

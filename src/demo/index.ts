export { DEMO_SERVERS, DemoServers, demoServerCommand, type DemoServerSpec, type RunningDemoServer } from './servers.js';
export { demoConfigYaml, DEMO_SERVICE, DEMO_ZONE_DRILL, type DemoConfigInput } from './config.js';
export { isPortFree, preferPort } from './ports.js';
export { DemoDb, type DemoDbFacts, type DemoDbOptions } from './db-demo.js';
export { findEtcd } from './db-etcd.js';
export type { DemoDbEvent, Standby } from './db-watch.js';
export { DEMO_DB_DATABASE, DEMO_DB_NAME, DEMO_DB_TABLE, DEMO_DB_USER } from './db-layout.js';

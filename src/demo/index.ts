export { DEMO_SERVERS, DemoServers, demoServerCommand, type DemoServerSpec, type RunningDemoServer } from './servers.js';
export { demoConfigYaml, DEMO_SERVICE, type DemoConfigInput } from './config.js';
export { isPortFree, preferPort } from './ports.js';

export { Daemon, type DaemonOptions, type ReloadResult } from './daemon.js';
export { Lifecycle, type Subsystem, type LifecycleState } from '../core/lifecycle.js';

export { Daemon, type DaemonOptions, type ReloadResult } from './daemon.js';

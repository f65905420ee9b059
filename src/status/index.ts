export { StatusPageServer, type StatusPageOptions } from './server.js';
export type { ComponentStatus, StatusProbeViews, StatusSnapshot, StatusStore } from './types.js';

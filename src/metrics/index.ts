export { createMetricsRegistry, registerCoreMetrics, type CoreMetrics } from './registry.js';

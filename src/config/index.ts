export * from './diagnostics.js';
export { formatFinding, findingToJSON } from './format.js';
export { loadConfigFile, loadValidConfig, parseConfigText, type LoadedConfig, type LoadOptions } from './load.js';
export { redactConfig, redactConfigText, redactUrl } from './redact.js';
export { configSchema, type BulwarkConfig, type ServiceConfig, type DatabaseConfig, type TierConfig, type PostgresConfig, type PostgresMemberConfig, type CoordinationConfig } from './schema.js';
export { parseDuration, parsePercent, parseSize, formatDurationShort } from './units.js';
export { parseSchedule, longestGapMs, type Schedule } from './schedule.js';
export { suggest, didYouMean } from './suggest.js';
export { endpointName } from './endpoints.js';

export { ApiServer } from './server.js';
export { createApiApp, type ApiDependencies } from './app.js';
export { probeRoutes } from './routes/probes.js';
export { serviceRoutes } from './routes/services.js';
export { gatewayRoutes, type GatewayAdmin, type GatewayRouteDependencies } from './routes/gateway.js';
export { backupRoutes, type BackupAdmin } from './routes/backups.js';
export { databaseRoutes, type DatabaseAdmin } from './routes/databases.js';
export { incidentRoutes } from './routes/incidents.js';
export { incidentLinkRoutes } from './routes/incident-links.js';

export { Gateway, type GatewayOptions } from './gateway.js';
export { databaseServiceKey, type PrimaryAddress, type PrimarySource, type PrimarySourceFactory } from './database-services.js';
export { ServiceGateway } from './service-gateway.js';

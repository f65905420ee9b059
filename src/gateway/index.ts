export { Gateway, type GatewayOptions } from './gateway.js';
export { databaseServiceKey, type PrimaryAddress, type PrimarySource, type PrimarySourceFactory } from './database-services.js';
export { ServiceGateway } from './service-gateway.js';

// Endpoint pools: the API's admin routes and the CLI's `bulwark gateway` read and steer them.
export { EndpointPool, MAX_WEIGHT, type AdminState, type EndpointSnapshot, type PoolSnapshot } from './pool/index.js';

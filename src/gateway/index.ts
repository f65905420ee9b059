export { Gateway } from './gateway.js';
export { ServiceGateway } from './service-gateway.js';

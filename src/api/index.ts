export { ApiServer, splitListen } from './server.js';
export { createApiApp, type ApiDependencies } from './app.js';

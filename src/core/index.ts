export * from './errors.js';
export * from './logger.js';
export * from './secrets.js';
export * from './lifecycle.js';
export * from './time.js';
export * from './names.js';

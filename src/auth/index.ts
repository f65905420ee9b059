export { generateToken, hashToken, verifyToken, TOKEN_PREFIX, type GeneratedToken } from './tokens.js';

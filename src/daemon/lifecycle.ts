/** The lifecycle contract lives in core (every subsystem implements it); the daemon composes with it. */
export { Lifecycle, type LifecycleState, type Subsystem } from '../core/lifecycle.js';

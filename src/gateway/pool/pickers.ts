import { BulwarkError } from '../../core/errors.js';
import { LeastConnectionsPicker } from './least-connections.js';
import { PowerOfTwoChoicesPicker } from './power-of-two-choices.js';
import { RoundRobinPicker } from './round-robin.js';
import type { Algorithm, Picker } from './types.js';
import { WeightedPicker } from './weighted.js';

export type PickerFactory = () => Picker;

const registry = new Map<string, PickerFactory>([
  ['round_robin', () => new RoundRobinPicker()],
  ['least_connections', () => new LeastConnectionsPicker()],
  ['weighted', () => new WeightedPicker()],
  ['power_of_two_choices', () => new PowerOfTwoChoicesPicker()],
]);

/** Register (or replace) a balancing algorithm by name. */
export function registerPicker(name: string, factory: PickerFactory): void {
  registry.set(name, factory);
}

export function pickerNames(): string[] {
  return [...registry.keys()];
}

/** A fresh picker (pickers hold per-pool state: rotation, current weights). */
export function createPicker(name: Algorithm | string): Picker {
  const factory = registry.get(name);
  if (!factory) {
    throw new BulwarkError('BAD_REQUEST', `unknown load balancing algorithm "${name}"`, {
      hint: `use one of: ${pickerNames().join(', ')}`,
      context: { algorithm: name },
    });
  }
  return factory();
}

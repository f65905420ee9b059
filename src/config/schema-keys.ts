import type { z } from 'zod';
import type { KeyPath } from './diagnostics.js';

type Def = { type: string; shape?: Record<string, z.ZodType>; innerType?: z.ZodType; in?: z.ZodType; element?: z.ZodType; valueType?: z.ZodType; options?: z.ZodType[] };

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** Strip wrappers (optional, default, pipe) down to the schema that holds the shape. */
function unwrap(schema: z.ZodType): z.ZodType[] {
  const def = defOf(schema);
  if ((def.type === 'optional' || def.type === 'default' || def.type === 'nullable' || def.type === 'prefault') && def.innerType) return unwrap(def.innerType);
  if (def.type === 'pipe' && def.in) return unwrap(def.in);
  if (def.type === 'union' && def.options) return def.options.flatMap(unwrap);
  return [schema];
}

/** The keys an object accepts at `path` in the schema: the candidates for "did you mean". */
export function knownKeysAt(root: z.ZodType, path: KeyPath): string[] {
  let current: z.ZodType[] = [root];
  for (const part of path) {
    current = current.flatMap(unwrap).flatMap((schema) => {
      const def = defOf(schema);
      if (def.type === 'object' && def.shape && typeof part === 'string') return def.shape[part] ? [def.shape[part]] : [];
      if (def.type === 'record' && def.valueType) return [def.valueType];
      if (def.type === 'array' && def.element) return [def.element];
      return [];
    });
  }
  return current.flatMap(unwrap).flatMap((schema) => Object.keys(defOf(schema).shape ?? {}));
}

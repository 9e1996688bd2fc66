/**
 * The part of JSON Schema (draft 4) Ironic's request schemas use, with the
 * error Python's jsonschema raises and Ironic renders (ironic/common/args.py
 * `_validate_schema`): "Schema error for <name>: <best match>", plus
 * ". Possible root cause: <cause>" for an error whose sub-schemas failed
 * (anyOf). The best match is jsonschema's: the error nearest the top of the
 * document, an `anyOf` losing to any other at the same depth, the first of
 * equals in the schema's key order.
 */
import { pyRepr } from './py-repr.js';

export type JsonType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null';

export interface JsonSchema {
  /** One type, or several (`['string', 'null']`: "5 is not of type 'string', 'null'"). */
  type?: JsonType | readonly JsonType[];
  enum?: readonly unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  properties?: Readonly<Record<string, JsonSchema>>;
  additionalProperties?: false;
  required?: readonly string[];
  items?: JsonSchema;
  anyOf?: readonly JsonSchema[];
}

interface SchemaError {
  message: string;
  /** Depth in the document of the value that failed. */
  depth: number;
  keyword: string;
  context?: SchemaError[];
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function isType(value: unknown, type: JsonType): boolean {
  switch (type) {
    case 'object':
      return isObject(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
  }
}

/** Every error, in the order jsonschema finds them (the schema's keys in order, then the items'). */
function errorsOf(schema: JsonSchema, value: unknown, depth: number): SchemaError[] {
  const out: SchemaError[] = [];
  for (const keyword of Object.keys(schema) as (keyof JsonSchema)[]) {
    switch (keyword) {
      case 'type': {
        const types: readonly JsonType[] = typeof schema.type === 'string' ? [schema.type] : schema.type!;
        if (!types.some((t) => isType(value, t))) out.push({ message: `${pyRepr(value)} is not of type ${types.map((t) => pyRepr(t)).join(', ')}`, depth, keyword });
        break;
      }
      case 'enum':
        if (!schema.enum!.some((e) => e === value)) out.push({ message: `${pyRepr(value)} is not one of ${pyRepr(schema.enum)}`, depth, keyword });
        break;
      case 'pattern':
        if (typeof value === 'string' && !pythonRegex(schema.pattern!).test(value)) {
          out.push({ message: `${pyRepr(value)} does not match ${pyRepr(schema.pattern)}`, depth, keyword });
        }
        break;
      case 'minLength':
        if (typeof value === 'string' && [...value].length < schema.minLength!) out.push({ message: `${pyRepr(value)} is too short`, depth, keyword });
        break;
      case 'maxLength':
        if (typeof value === 'string' && [...value].length > schema.maxLength!) out.push({ message: `${pyRepr(value)} is too long`, depth, keyword });
        break;
      case 'minItems':
        if (Array.isArray(value) && value.length < schema.minItems!) out.push({ message: `${pyRepr(value)} is too short`, depth, keyword });
        break;
      case 'properties':
        if (isObject(value)) {
          for (const [k, sub] of Object.entries(schema.properties!)) {
            if (Object.hasOwn(value, k)) out.push(...errorsOf(sub, value[k], depth + 1));
          }
        }
        break;
      case 'additionalProperties':
        if (isObject(value)) {
          const extras = Object.keys(value).filter((k) => !Object.hasOwn(schema.properties ?? {}, k));
          if (extras.length > 0) {
            const verb = extras.length === 1 ? 'was' : 'were';
            out.push({ message: `Additional properties are not allowed (${extras.map(pyRepr).join(', ')} ${verb} unexpected)`, depth, keyword });
          }
        }
        break;
      case 'required':
        if (isObject(value)) {
          for (const k of schema.required!) if (!Object.hasOwn(value, k)) out.push({ message: `${pyRepr(k)} is a required property`, depth, keyword });
        }
        break;
      case 'items':
        if (Array.isArray(value)) for (const item of value) out.push(...errorsOf(schema.items!, item, depth + 1));
        break;
      case 'anyOf': {
        const context: SchemaError[] = [];
        let matched = false;
        for (const sub of schema.anyOf!) {
          const errs = errorsOf(sub, value, 0);
          if (errs.length === 0) {
            matched = true;
            break;
          }
          context.push(...errs);
        }
        if (!matched) out.push({ message: `${pyRepr(value)} is not valid under any of the given schemas`, depth, keyword, context });
        break;
      }
    }
  }
  return out;
}

/** jsonschema's best_match (relevance: nearest the top, then not anyOf; the first of equals). */
function bestMatch(errors: SchemaError[]): SchemaError | undefined {
  let best: SchemaError | undefined;
  const rank = (e: SchemaError): [number, number] => [-e.depth, e.keyword === 'anyOf' ? 0 : 1];
  for (const e of errors) {
    if (!best) best = e;
    else {
      const [a1, a2] = rank(e);
      const [b1, b2] = rank(best);
      if (a1 > b1 || (a1 === b1 && a2 > b2)) best = e;
    }
  }
  return best;
}

/** Ironic's text for a value that fails the schema, or undefined when it passes. */
export function schemaError(name: string, schema: JsonSchema, value: unknown): string | undefined {
  const best = bestMatch(errorsOf(schema, value, 0));
  if (!best) return undefined;
  let text = `Schema error for ${name}: ${best.message}`;
  let cause: string | undefined;
  for (let current = best; current.context && current.context.length > 0; ) {
    current = bestMatch(current.context)!;
    cause = current.message;
  }
  if (cause !== undefined) text += `. Possible root cause: ${cause}`;
  return text;
}

const regexCache = new Map<string, RegExp>();

/** Python's re.search with a schema pattern (`\w` is Unicode-aware in Python 3). */
function pythonRegex(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (!re) {
    let out = '';
    let inClass = false;
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i]!;
      if (c === '\\') {
        const next = pattern[i + 1] ?? '';
        out += next === 'w' ? (inClass ? '\\p{L}\\p{N}_' : '[\\p{L}\\p{N}_]') : c + next;
        i++;
        continue;
      }
      if (c === '[') inClass = true;
      else if (c === ']') inClass = false;
      out += c;
    }
    re = new RegExp(out, 'u');
    regexCache.set(pattern, re);
  }
  return re;
}

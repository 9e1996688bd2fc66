/**
 * RFC 6902 JSON Patch (add / replace / remove — the ops Ironic's schema allows)
 * with python-jsonpatch's failure reasons, so that Ironic's
 * `Couldn't apply patch '…'. Reason: …` texts come out the same.
 */

import { pyRepr, pyStr } from './pyrepr.js';

export interface PatchOp {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

export class PatchApplyError extends Error {}

const PATH_RE = /^(\/[\w-]+)+$/;

/**
 * Validates the body against Ironic's patch schema (`args.patch`). Returns the
 * faultstring of a schema error, or undefined.
 */
export function patchSchemaError(body: unknown): string | undefined {
  const pre = 'Schema error for patch: ';
  if (!Array.isArray(body)) return `${pre}${pyRepr(body)} is not of type 'array'`;
  for (const item of body) {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      return `${pre}${pyRepr(item)} is not of type 'object'`;
    }
    const o = item as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (k !== 'path' && k !== 'op' && k !== 'value') {
        return `${pre}Additional properties are not allowed (${pyStr(k)} was unexpected)`;
      }
    }
    for (const req of ['op', 'path']) {
      if (!(req in o)) return `${pre}${pyStr(req)} is a required property`;
    }
    if (typeof o.path !== 'string') return `${pre}${pyRepr(o.path)} is not of type 'string'`;
    if (!PATH_RE.test(o.path)) return `${pre}${pyStr(o.path)} does not match ${pyStr('^(/[\\w-]+)+$')}`;
    if (typeof o.op !== 'string') return `${pre}${pyRepr(o.op)} is not of type 'string'`;
    if (!['add', 'replace', 'remove'].includes(o.op)) {
      return `${pre}${pyStr(o.op)} is not one of ['add', 'replace', 'remove']`;
    }
  }
  return undefined;
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** Applies one operation to `doc` in place (doc is a plain JSON object). */
export function applyOp(doc: Record<string, unknown>, op: PatchOp): void {
  const parts = op.path.split('/').slice(1);
  let parent: unknown = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const key = parts[i]!;
    parent = step(parent, key);
  }
  const last = parts[parts.length - 1]!;
  if (Array.isArray(parent)) {
    applyToList(parent, last, op);
    return;
  }
  if (parent === null || typeof parent !== 'object') {
    throw new PatchApplyError(`member ${pyStr(last)} not found in ${pyRepr(parent)}`);
  }
  const obj = parent as Record<string, unknown>;
  switch (op.op) {
    case 'add':
      obj[last] = clone(op.value);
      return;
    case 'replace':
      if (!(last in obj)) throw new PatchApplyError(`can't replace a non-existent object ${pyStr(last)}`);
      obj[last] = clone(op.value);
      return;
    case 'remove':
      if (!(last in obj)) throw new PatchApplyError(`can't remove a non-existent object ${pyStr(last)}`);
      delete obj[last];
      return;
  }
}

function step(container: unknown, key: string): unknown {
  if (Array.isArray(container)) {
    if (!/^(0|[1-9][0-9]*)$/.test(key)) throw new PatchApplyError(`${pyStr(key)} is not a valid sequence index`);
    const i = Number(key);
    if (i >= container.length) throw new PatchApplyError(`index '${key}' is out of bounds`);
    return container[i];
  }
  if (container !== null && typeof container === 'object' && key in (container as object)) {
    return (container as Record<string, unknown>)[key];
  }
  throw new PatchApplyError(`member ${pyStr(key)} not found in ${pyRepr(container)}`);
}

function applyToList(list: unknown[], key: string, op: PatchOp): void {
  if (key === '-' && op.op === 'add') {
    list.push(clone(op.value));
    return;
  }
  if (!/^(0|[1-9][0-9]*)$/.test(key)) throw new PatchApplyError(`${pyStr(key)} is not a valid sequence index`);
  const i = Number(key);
  switch (op.op) {
    case 'add':
      if (i > list.length) throw new PatchApplyError("can't insert outside of list");
      list.splice(i, 0, clone(op.value));
      return;
    case 'replace':
      if (i >= list.length) throw new PatchApplyError("can't replace outside of list");
      list[i] = clone(op.value);
      return;
    case 'remove':
      if (i >= list.length) throw new PatchApplyError("can't remove a non-existent object " + pyStr(key));
      list.splice(i, 1);
      return;
  }
}

/** The op as Python prints the dict Ironic received (key order as sent). */
export function opRepr(op: Record<string, unknown>): string {
  return pyRepr(op);
}

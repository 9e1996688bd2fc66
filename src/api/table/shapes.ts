/**
 * Shapes of the data the table files export beside their entries: the
 * request forms pecan also accepts that the proxy refuses, and how Ironic
 * hides fields of the objects it returns. (nodes.ts has its own, richer
 * NodeRedaction for node bodies; RefusedForm is the same shape as its own.)
 */
import type { HttpMethod } from '../types.js';

/** A form a real Ironic 21.4 accepts (pecan routing) that has no entry: the proxy refuses it. */
export interface RefusedForm {
  /** 'ANY': every method. */
  method: HttpMethod | 'ANY';
  example: string;
  why: string;
}

/**
 * How Ironic changes one field of the objects it returns, in show, list and
 * the bodies answered by create/update, in the listed order.
 */
export interface FieldRedaction {
  /**
   * The field; `steps[].args` is the `args` of each element of `steps`.
   * Only touched when present in the body after `?fields=` filtering.
   */
  field: string;
  /**
   * 'rule': when `rule` is denied, the caller's credentials as target;
   * 'always': whatever the caller; 'below': when the request's microversion
   * (minor) is below `minor`.
   */
  when: 'rule' | 'always' | 'below';
  rule?: string;
  minor?: number;
  /**
   * 'replace': the value becomes `replacement`; 'mask-secrets': oslo
   * strutils.mask_dict_password(value, '******') (secret-looking keys at any
   * depth); 'remove': the field is dropped from the body.
   */
  action: 'replace' | 'mask-secrets' | 'remove';
  replacement?: unknown;
}

/** The common pecan reason, said once. */
export const PECAN_WHY = {
  queryArg:
    "pecan binds query parameters (and, for non-GET requests, the keys of a JSON object body) to the handler's keyword arguments, path arguments included",
  fieldsSegment:
    "Ironic's method.expose wraps every handler in callfunction(*args, **kwargs), so pecan passes an extra path segment on as the next positional argument: `fields`",
} as const;

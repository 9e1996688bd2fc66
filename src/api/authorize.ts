/**
 * Ironic's authorisation, decided by the proxy before anything reaches a
 * site: each Authz pattern of the table is evaluated here the way Ironic's
 * controller helpers evaluate it (ironic/api/controllers/v1/utils.py), with
 * the sites' own policy rules (src/policy/). The order of outcomes is
 * Ironic's: an object that does not exist is 404 before any policy; one the
 * caller may not see is 404 too (the same answer, so existence leaks to no
 * one); then each rule is checked (403 naming it).
 *
 * Policy targets (an object's owner and lessee) are read from the object's
 * site only when the decision depends on them: the rules are first decided
 * with the target unknown (Kleene logic), so a system admin's request costs
 * no extra round trip.
 *
 * Under auth_strategy = noauth there is no user, and, as in Ironic, no policy.
 */
import type { FastifyRequest } from 'fastify';
import { routeToOwner } from '../federation/route-to-owner.js';
import { objectAnswer } from '../federation/ask.js';
import { badRequest, nodeNotFound, ProxyError } from '../errors.js';
import { isUuidLike } from '../ironic/idents.js';
import { atLeast } from '../ironic/microversion.js';
import { credentialsOf, UNKNOWN, type Credentials, type Decision, type Target } from '../policy/enforcer.js';
import type { ProxyServices } from '../services.js';
import { objectIdent as entryObjectIdent, projectOf, type Authorized, type LoadedTarget } from './engine.js';
import { loadTarget, notFoundOf, type TargetKind } from './targets.js';
import type { ApiEntry, Authz } from './types.js';

export function forbidden(rule: string): ProxyError {
  return new ProxyError('FORBIDDEN', `Access was denied to the following resource: ${rule}`);
}

/** The request's credentials as oslo.context gives them to oslo.policy; undefined without Keystone. */
export function requestCredentials(services: ProxyServices, req: FastifyRequest): Credentials | undefined {
  if (!req.user) return undefined;
  return (req.ironic.credentials ??= credentialsOf(req.user, services.config.osloPolicy));
}

export interface AuthorizeInput {
  services: ProxyServices;
  req: FastifyRequest;
  entry: ApiEntry;
  params: Record<string, string>;
  query: URLSearchParams;
}

export async function authorize(input: AuthorizeInput): Promise<Authorized> {
  const creds = requestCredentials(input.services, input.req);
  if (!creds) return {};
  const authz = input.entry.authz;
  const policy = new Decider(input.services, creds);
  switch (authz.check) {
    case 'public':
      return {};
    case 'policy':
      // Node create tries the self-owned rule first and may rewrite the body: its engine decides.
      if (authz.selfOwned) return {};
      for (const rule of authz.rules) policy.require(rule, creds);
      return {};
    case 'list': {
      if (authz.parentNode) await parentNodePolicy(input, policy, creds, authz);
      if (authz.parentPortgroup) await parentPortgroupPolicy(input, policy, creds, authz.parentPortgroup);
      const listProject = listPolicy(policy, creds, authz, input.query);
      if (authz.nodeParam) await filterNodePolicy(input, policy, creds, authz.nodeParam);
      return { listProject };
    }
    case 'allocation-create':
      // The owner of the allocation follows from the rules and the body: the engine decides and rewrites it.
      return {};
    case 'runbook':
      await runbookPolicy(input, policy, creds, authz);
      return {};
    case 'node':
      // The rules of a node patch come from its body, a delete may fall back to the self-owned rule: their engines decide.
      if (authz.rulesFromPatch || authz.selfOwnedFallback) return {};
      if (authz.allocationRules) {
        const node = await nodePolicy(input.services, input.req, objectIdent(input), policy, creds, authz.rules);
        return { node, allocation: await nodeAllocationPolicy(input, policy, creds, authz.allocationRules) };
      }
      return { node: await nodePolicy(input.services, input.req, objectIdent(input), policy, creds, authz.rules, authz.missingNodeStatus) };
    case 'node-object':
      return { node: await nodeObjectPolicy(input, policy, creds, authz.rules) };
    case 'allocation':
      return { allocation: await allocationPolicy(input, policy, creds, authz.rules) };
    case 'create-on-node':
      // The body names the node; the engine reads it and calls `authorizeOnNode`.
      return {};
  }
}

/** Decisions of one request, with Ironic's errors for the outcomes. */
export class Decider {
  constructor(
    private readonly services: ProxyServices,
    readonly creds: Credentials,
  ) {}

  decide(rule: string, target: Target): Decision {
    return this.services.enforcer.decide(rule, this.creds, target);
  }

  /** `policy.authorize(rule, target)`: a 403 naming the rule unless allowed. */
  require(rule: string, target: Target): void {
    const decision = this.decide(rule, target);
    if (decision === 'allow') return;
    if (decision === 'invalid-scope') throw this.invalidScope(rule);
    throw forbidden(rule);
  }

  /**
   * oslo's InvalidScope (enforce_scope on, a token of a scope the rule does
   * not take): Ironic does not catch it, so its answer is a 500 with oslo's text.
   */
  private invalidScope(rule: string): ProxyError {
    const registered = this.services.enforcer.defaultOf(rule);
    const scopes = registered?.scope_types ?? [];
    const token = this.creds.system_scope === 'all' ? 'system' : this.creds.domain_id ? 'domain' : 'project';
    const pyList = `[${scopes.map((s) => `'${s}'`).join(', ')}]`;
    // oslo formats the rule as its RuleDefault prints: "name": "check string".
    const shown = `"${rule}": "${registered?.check_str ?? ''}"`;
    return new ProxyError('INVALID_SCOPE', `${shown} requires a scope of ${pyList}, request was made with ${token} scope.`);
  }
}

/** The target Ironic builds for an object of a node (`check_owner_policy`): the caller's credentials plus the node's owner/lessee. */
export function nodeTarget(creds: Credentials, node: { owner: string | null; lessee: string | null } | undefined, lesseeAlways = false): Target {
  if (!node) return { ...creds, 'node.owner': UNKNOWN, 'node.lessee': UNKNOWN };
  const t: Target = { ...creds, 'node.owner': node.owner };
  // check_owner_policy sets node.lessee only when there is one; the port/volume helpers always set it.
  if (node.lessee || lesseeAlways) t['node.lessee'] = node.lessee;
  return t;
}

function listPolicy(policy: Decider, creds: Credentials, authz: Extract<Authz, { check: 'list' }>, query: URLSearchParams): string | undefined {
  const kind = authz.kind;
  if (policy.decide(`baremetal:${kind}:list_all`, creds) === 'allow') return undefined;
  const project = projectOf(creds);
  const asked = authz.ownerParam ? query.get(authz.ownerParam) : null;
  if (!project || (asked && asked !== project)) throw forbidden(`baremetal:${kind}:list_all`);
  policy.require(`baremetal:${kind}:list`, creds);
  return project;
}

/** True when every rule is allowed whatever the target: no need to read it. */
function allowedBlind(policy: Decider, rules: readonly string[], target: Target): boolean {
  return rules.every((r) => policy.decide(r, target) === 'allow');
}

/**
 * `check_node_policy_and_retrieve` / `check_multiple_node_policies_and_retrieve`:
 * the node exists (404), is visible (`baremetal:node:get`; concealed as 404
 * for project-scoped callers), then each rule (403).
 */
async function nodePolicy(
  services: ProxyServices,
  req: FastifyRequest,
  ident: string,
  policy: Decider,
  creds: Credentials,
  rules: readonly string[],
  missingStatus?: number,
): Promise<LoadedTarget | undefined> {
  // Below 1.5 a node is found by uuid only: a name is "not found" before any policy, as Ironic's lookup fails.
  if (!isUuidLike(ident) && !atLeast(req.ironic.version, 5)) throw nodeNotFound(ident);
  const blind = nodeTarget(creds, undefined);
  if (allowedBlind(policy, ['baremetal:node:get', ...rules], blind)) return undefined;
  // A node the caller may not see is "not found" for every caller (Ironic turns the denial into NodeNotFound),
  // the same answer as for a node that does not exist: no need to ask where it is.
  if (policy.decide('baremetal:node:get', blind) === 'deny' && !missingStatus) throw nodeNotFound(ident);
  let node: LoadedTarget;
  try {
    node = await loadTarget(services, req, 'node', ident);
  } catch (err) {
    // GET …/allocation: a node that does not exist is a 400 there.
    if (missingStatus && err instanceof ProxyError && err.status === 404) throw new ProxyError(missingStatus === 400 ? 'NODE_NOT_FOUND_BAD_REQUEST' : 'NODE_NOT_FOUND', err.message);
    throw err;
  }
  const target = nodeTarget(creds, node);
  if (policy.decide('baremetal:node:get', target) !== 'allow') {
    throw missingStatus ? new ProxyError('NOT_FOUND', 'Resource could not be found.') : nodeNotFound(ident);
  }
  for (const rule of rules) policy.require(rule, target);
  return node;
}

/**
 * The 'node' pattern for rules an engine decides from the request (a
 * patch's fields, delete's self-owned fallback); undefined without Keystone
 * or when the target did not have to be read.
 */
export function authorizeNodeRules(services: ProxyServices, req: FastifyRequest, ident: string, rules: readonly string[]): Promise<LoadedTarget | undefined> {
  const creds = requestCredentials(services, req);
  if (!creds) return Promise.resolve(undefined);
  return nodePolicy(services, req, ident, new Decider(services, creds), creds, rules);
}

/**
 * Ports, portgroups, volume connectors and targets (`check_port_policy_and_retrieve`,
 * `check_volume_policy_and_retrieve`): the object exists (404), its node's
 * owner/lessee are the target; not visible (`baremetal:node:get`) is the
 * object's 404, for every caller; then each rule (403).
 */
async function nodeObjectPolicy(input: AuthorizeInput, policy: Decider, creds: Credentials, rules: readonly string[]): Promise<LoadedTarget | undefined> {
  const kind = input.entry.object?.kind as TargetKind;
  const ident = objectIdent(input);
  const blind = nodeTarget(creds, undefined, true);
  if (allowedBlind(policy, ['baremetal:node:get', ...rules], blind)) return undefined;
  const holder = await loadTarget(input.services, input.req, kind, ident);
  const target = nodeTarget(creds, holder, true);
  if (policy.decide('baremetal:node:get', target) !== 'allow') throw notFoundOf(kind, ident);
  for (const rule of rules) policy.require(rule, target);
  return holder;
}

/** `check_allocation_policy_and_retrieve`: exists (404), visible (`baremetal:allocation:get`, else 404), the rule (403). */
async function allocationPolicy(input: AuthorizeInput, policy: Decider, creds: Credentials, rules: readonly string[]): Promise<LoadedTarget | undefined> {
  const ident = objectIdent(input);
  const blind: Target = { ...creds, 'allocation.owner': UNKNOWN };
  if (allowedBlind(policy, ['baremetal:allocation:get', ...rules], blind)) return undefined;
  const allocation = await loadTarget(input.services, input.req, 'allocation', ident);
  const target: Target = { ...creds, 'allocation.owner': allocation.owner };
  if (policy.decide('baremetal:allocation:get', target) !== 'allow') throw notFoundOf('allocation', ident);
  for (const rule of rules) policy.require(rule, target);
  return allocation;
}

/**
 * A write whose target is a node named in its body (port, portgroup, volume
 * creates: `check_owner_policy('node', rule, owner, lessee)` without
 * concealment). A node that does not exist is checked with no owner first, as
 * Ironic does, then reported by the engine.
 */
export async function authorizeOnNode(
  services: ProxyServices,
  req: FastifyRequest,
  rules: readonly string[],
  nodeIdent: string | undefined,
): Promise<LoadedTarget | undefined> {
  const creds = requestCredentials(services, req);
  if (!creds) return undefined;
  const policy = new Decider(services, creds);
  const blind = nodeTarget(creds, undefined);
  if (allowedBlind(policy, rules, blind)) return undefined;
  let node: LoadedTarget | undefined;
  if (nodeIdent) {
    try {
      node = await loadTarget(services, req, 'node', nodeIdent);
    } catch (err) {
      if (!(err instanceof ProxyError) || err.status !== 404) throw err;
    }
  }
  const target = nodeTarget(creds, node ?? { owner: null, lessee: null });
  for (const rule of rules) policy.require(rule, target);
  return node;
}

function objectIdent(input: AuthorizeInput): string {
  const object = input.entry.object;
  if (object?.fromQuery) {
    // GET /v1/nodes/validate?node_uuid=…|node=…: the first one set names the node, as Ironic reads them.
    const named = object.fromQuery.map((q) => input.query.get(q)).find((v) => v);
    if (!named) throw badRequest('Expected a logical name or UUID but received None.');
    return named;
  }
  return entryObjectIdent(input);
}

/**
 * Node-scoped listings (`check_port_list_policy` / `check_volume_list_policy`
 * with a parent node): the node is looked up by UUID only (a name is not
 * found), and must be visible; either failure is Ironic's 404 for it.
 */
async function parentNodePolicy(input: AuthorizeInput, policy: Decider, creds: Credentials, authz: Extract<Authz, { check: 'list' }>): Promise<void> {
  const ident = input.params[authz.parentNode!] ?? '';
  const missing = (): ProxyError =>
    authz.parentNotFound === 'portgroup' ? new ProxyError('PORTGROUP_NOT_FOUND', 'Portgroup None could not be found.') : nodeNotFound(ident);
  if (!isUuidLike(ident)) throw missing();
  const blind = nodeTarget(creds, undefined);
  if (policy.decide('baremetal:node:get', blind) === 'allow') return;
  let node: LoadedTarget;
  try {
    node = await loadTarget(input.services, input.req, 'node', ident);
  } catch (err) {
    if (err instanceof ProxyError && err.status === 404) throw missing();
    throw err;
  }
  if (policy.decide('baremetal:node:get', nodeTarget(creds, node)) !== 'allow') throw nodeNotFound(node.uuid);
}

/** DELETE /v1/nodes/{node}/allocation: the node's allocation (none: 404), then its rules with `allocation.owner` as target. */
async function nodeAllocationPolicy(input: AuthorizeInput, policy: Decider, creds: Credentials, rules: readonly string[]): Promise<LoadedTarget | undefined> {
  const blind: Target = { ...creds, 'allocation.owner': UNKNOWN };
  if (allowedBlind(policy, rules, blind)) return undefined;
  const ident = objectIdent(input);
  const { services, req } = input;
  const requestId = req.ironic.globalRequestId;
  const { site, res } = await routeToOwner(services.nodes, ident, { requestId }, (s) =>
    s.request({ method: 'GET', path: `/v1/nodes/${encodeURIComponent(ident)}/allocation?fields=uuid,owner`, version: services.internalVersion(), requestId }),
  );
  // Ironic's own 404 is "no allocation"; a site that could not be asked is its 503/502, never that.
  const answer = objectAnswer(site, res, undefined, ['uuid', 'owner']);
  if (!answer.found) throw new ProxyError('ALLOCATION_NOT_FOUND', `Allocation for node ${ident} was not found`);
  const doc = answer.doc;
  const owner = typeof doc.owner === 'string' ? doc.owner : null;
  for (const rule of rules) policy.require(rule, { ...creds, 'allocation.owner': owner });
  return { site, uuid: String(doc.uuid), owner, lessee: null };
}

/** A portgroup's ports: the portgroup by UUID only, its node visible; either failure is the portgroup's 404. */
async function parentPortgroupPolicy(input: AuthorizeInput, policy: Decider, creds: Credentials, param: string): Promise<void> {
  const ident = input.params[param] ?? '';
  const missing = (): ProxyError => notFoundOf('portgroup', ident);
  if (!isUuidLike(ident)) throw missing();
  if (policy.decide('baremetal:node:get', nodeTarget(creds, undefined, true)) === 'allow') return;
  let holder: LoadedTarget;
  try {
    holder = await loadTarget(input.services, input.req, 'portgroup', ident);
  } catch (err) {
    if (err instanceof ProxyError && err.status === 404) throw missing();
    throw err;
  }
  if (policy.decide('baremetal:node:get', nodeTarget(creds, holder)) !== 'allow') throw missing();
}

/** A listing filtered by a node (allocations' `node`): missing is a 400, invisible a 404, after the list rules. */
async function filterNodePolicy(input: AuthorizeInput, policy: Decider, creds: Credentials, param: string): Promise<void> {
  const ident = input.query.get(param);
  if (!ident) return;
  if (policy.decide('baremetal:node:get', nodeTarget(creds, undefined)) === 'allow') return;
  let node: LoadedTarget;
  try {
    node = await loadTarget(input.services, input.req, 'node', ident);
  } catch (err) {
    if (err instanceof ProxyError && err.status === 404) throw badRequest(`Node ${ident} could not be found.`);
    throw err;
  }
  if (policy.decide('baremetal:node:get', nodeTarget(creds, node)) !== 'allow') throw new ProxyError('NOT_FOUND', 'Resource could not be found.');
}

/**
 * Runbooks (upstream's check_runbook_policy_and_retrieve): the runbook
 * exists (404), then the first rule with `runbook.owner` as target (403,
 * not concealed; GET shows a public runbook anyway), then the others. A
 * patch's rules come from its paths.
 */
async function runbookPolicy(input: AuthorizeInput, policy: Decider, creds: Credentials, authz: Extract<Authz, { check: 'runbook' }>): Promise<void> {
  let rules = authz.rules;
  if (authz.patchRules) {
    const ops = readPatchPaths(input.req.body);
    const picked: string[] = [];
    let generic = ops.length === 0;
    for (const path of ops) {
      const hit = authz.patchRules.find((r) => path.startsWith(r.prefix));
      if (hit) picked.push(hit.rule);
      else generic = true;
    }
    rules = [...picked, ...(generic ? authz.rules : [])];
  }
  const blind: Target = { ...creds, 'runbook.owner': UNKNOWN };
  if (allowedBlind(policy, rules, blind)) return;
  const ident = objectIdent(input);
  const { services, req } = input;
  const requestId = req.ironic.globalRequestId;
  // Runbooks are replicated: every site holds the same one; the first that answers is asked.
  const site = [...services.registry.sites].sort((a, b) => a.ordinal - b.ordinal)[0]!;
  const res = await site.request({ method: 'GET', path: `/v1/runbooks/${encodeURIComponent(ident)}?fields=uuid,owner,public`, version: services.internalVersion(), requestId });
  const answer = objectAnswer(site, res, ident, ['owner', 'public']);
  if (!answer.found) throw new ProxyError('RUNBOOK_NOT_FOUND', `Runbook ${ident} could not be found.`);
  const doc = answer.doc;
  const target: Target = { ...creds, 'runbook.owner': typeof doc.owner === 'string' ? doc.owner : null };
  const [first, ...others] = rules;
  if (first && policy.decide(first, target) !== 'allow' && !(authz.publicFallback && doc.public === true)) policy.require(first, target);
  for (const rule of others) policy.require(rule, target);
}

function readPatchPaths(body: unknown): string[] {
  if (!Buffer.isBuffer(body)) return [];
  try {
    const doc = JSON.parse(body.toString('utf8')) as unknown;
    return Array.isArray(doc) ? doc.map((op) => (op && typeof op === 'object' && typeof (op as { path?: unknown }).path === 'string' ? (op as { path: string }).path : '')) : [];
  } catch {
    return [];
  }
}

/**
 * Ironic's provision state machine (ironic/common/states.py) and the way the
 * fake-hardware driver walks it: a request moves the node into a transitional
 * state, and the conductor finishes it shortly afterwards.
 */

export const VERBS: Readonly<Record<string, string>> = {
  active: 'deploy',
  deploy: 'deploy',
  deleted: 'delete',
  undeploy: 'delete',
  manage: 'manage',
  provide: 'provide',
  inspect: 'inspect',
  abort: 'abort',
  clean: 'clean',
  adopt: 'adopt',
  rescue: 'rescue',
  unrescue: 'unrescue',
};

/** Minimum microversion per provision target (`MIN_VERB_VERSIONS`, keyed by verb target). */
export const MIN_VERB_VERSION: Readonly<Record<string, number>> = {
  manage: 4,
  provide: 4,
  inspect: 6,
  abort: 13,
  clean: 15,
  adopt: 17,
  rescue: 38,
  unrescue: 38,
  deploy: 73,
  undeploy: 73,
};

/** state → event → next state. */
const T: Record<string, Record<string, string>> = {
  enroll: { manage: 'verifying' },
  verifying: { done: 'manageable', fail: 'enroll' },
  manageable: { provide: 'cleaning', clean: 'cleaning', inspect: 'inspecting', adopt: 'adopting' },
  available: { deploy: 'deploying', manage: 'manageable' },
  deploying: { fail: 'deploy failed', wait: 'wait call-back', done: 'active' },
  'wait call-back': { resume: 'deploying', fail: 'deploy failed', delete: 'deleting' },
  'deploy failed': { rebuild: 'deploying', deploy: 'deploying', delete: 'deleting' },
  active: { rebuild: 'deploying', delete: 'deleting', rescue: 'rescuing' },
  deleting: { fail: 'error', clean: 'cleaning' },
  cleaning: { done: 'available', fail: 'clean failed', wait: 'clean wait', manage: 'manageable' },
  'clean wait': { fail: 'clean failed', abort: 'clean failed', resume: 'cleaning' },
  'clean failed': { manage: 'manageable' },
  error: { rebuild: 'deploying', delete: 'deleting' },
  inspecting: { done: 'manageable', fail: 'inspect failed', wait: 'inspect wait' },
  'inspect wait': { done: 'manageable', fail: 'inspect failed', abort: 'inspect failed' },
  'inspect failed': { manage: 'manageable', inspect: 'inspecting' },
  rescuing: { done: 'rescue', wait: 'rescue wait', fail: 'rescue failed' },
  'rescue wait': { resume: 'rescuing', fail: 'rescue failed', abort: 'rescue failed', delete: 'deleting' },
  rescue: { rescue: 'rescuing', delete: 'deleting', unrescue: 'unrescuing' },
  'rescue failed': { rescue: 'rescuing', unrescue: 'unrescuing', delete: 'deleting' },
  unrescuing: { done: 'active', fail: 'unrescue failed' },
  'unrescue failed': { rescue: 'rescuing', unrescue: 'unrescuing', delete: 'deleting' },
  adopting: { done: 'active', fail: 'adopt failed' },
  'adopt failed': { adopt: 'adopting', manage: 'manageable' },
};

/** Every state name Ironic knows (`states.machine.states`); the provision_state filter accepts only these. */
export const ALL_STATES: ReadonlySet<string> = new Set(Object.keys(T));

/** `machine.is_actionable_event` from a state. */
export function isActionable(state: string, event: string): boolean {
  return T[state]?.[event] !== undefined;
}

export const STABLE_STATES: ReadonlySet<string> = new Set(['enroll', 'manageable', 'available', 'active', 'error', 'rescue']);

export const UNSTABLE_STATES: ReadonlySet<string> = new Set([
  'deploying', 'wait call-back', 'cleaning', 'clean wait', 'verifying', 'deleting', 'inspecting',
  'inspect wait', 'adopting', 'rescuing', 'rescue wait', 'unrescuing',
]);

/** Transitional states in which a node may still be PATCHed. */
export const UPDATE_ALLOWED_STATES: ReadonlySet<string> = new Set([
  'deploy failed', 'inspecting', 'inspect failed', 'inspect wait', 'clean failed', 'error', 'verifying',
  'adopt failed', 'rescue failed', 'unrescue failed',
]);

/** `DELETE_ALLOWED_STATES` + available (`[conductor]allow_deleting_available_nodes` defaults to true). */
export const DELETE_ALLOWED_STATES: readonly string[] = ['manageable', 'enroll', 'adopt failed', 'available'];

export interface Transition {
  /** State entered at once (with a target and a reservation). */
  interim: string;
  /** target_provision_state while in the interim state. */
  target: string | null;
  /** State reached when the conductor finishes. */
  final: string;
}

/**
 * What the fake-hardware conductor does for an API target accepted from `state`
 * (the caller has checked `isActionable`). Immediate transitions have
 * interim === final.
 */
export function plan(state: string, target: string): Transition {
  const event = VERBS[target] ?? target;
  const next = T[state]![event]!;
  switch (next) {
    case 'verifying':
      return { interim: 'verifying', target: 'manageable', final: 'manageable' };
    case 'cleaning':
      // provide → available; clean (manual) → manageable
      return event === 'clean'
        ? { interim: 'cleaning', target: 'manageable', final: 'manageable' }
        : { interim: 'cleaning', target: 'available', final: 'available' };
    case 'deploying':
      return { interim: 'deploying', target: 'active', final: 'active' };
    case 'deleting':
      // tear down, then automated cleaning
      return { interim: 'deleting', target: 'available', final: 'available' };
    case 'inspecting':
      return { interim: 'inspecting', target: 'manageable', final: 'manageable' };
    case 'adopting':
      return { interim: 'adopting', target: 'active', final: 'active' };
    case 'rescuing':
      return { interim: 'rescuing', target: 'rescue', final: 'rescue' };
    case 'unrescuing':
      return { interim: 'unrescuing', target: 'active', final: 'active' };
    default:
      // manage from available / *failed, abort → fail states: immediate
      return { interim: next, target: null, final: next };
  }
}

#!/usr/bin/python3
"""The real oslo.policy with Ironic's real enforcer, as an oracle for tests.

Reads one JSON request on stdin, answers one JSON document on stdout:

  request = {
    "config_file": path of an ironic.conf ([DEFAULT], [oslo_policy] options;
                   a relative policy_file is found next to it),
    "personas": [{"name", "context": {RequestContext kwargs: user_id,
                  project_id, project_name, project_domain_id, user_domain_id,
                  domain_id, system_scope, roles, is_public_api}}],
    "targets": [{"name", "fields": {"node.owner": ..., ...}}],
    "extra_rules": [names a policy file defines, enforced with enforce()],
    "checks": [check strings evaluated with enforce(parse_rule(s), ...)],
    "parse": [check strings: str(parse_rule(s)) of each],
  }

  answer = {
    "ironic_version", "policy_path": the file oslo found (or null),
    "rule_names": Ironic's registered rules in order,
    "effective": {name: str(enforcer.rules[name])},
    "creds": {persona: to_policy_values() as a dict},
    "decisions": {persona: {target: "ADS..."}} one letter per rule
        (registered rules, then extra_rules, then checks): A allowed,
        D PolicyNotAuthorized, S InvalidScope, E any other exception,
    "parsed": [str(parse_rule(s)) for s in parse],
  }

The target of each decision is built as Ironic's API does
(ironic/api/controllers/v1/utils.py check_owner_policy):
dict(context.to_policy_values()) plus the target's fields, and the
credentials are the RequestContext itself (Enforcer maps it), with
do_raise=True as ironic.common.policy.authorize calls it.
"""

import json
import logging
import sys
import warnings


def _speed_up(enforcer):
    """Pure speed-ups for tens of thousands of decisions, no change of outcome.

    oslo calls inspect.getfullargspec on every node of every evaluation (to
    know whether a check takes current_rule): cache it per function. And
    enforce() calls load_rules() each time, which only re-stats the files
    that were just loaded and cannot change during the run.
    """
    import functools
    import inspect
    from oslo_policy import _checks

    real = inspect.getfullargspec

    @functools.lru_cache(maxsize=None)
    def cached(func):
        return real(func)

    class _Inspect:
        @staticmethod
        def getfullargspec(fn):
            return cached(getattr(fn, '__func__', fn))

    _checks.inspect = _Inspect
    enforcer.load_rules = lambda force_reload=False: None


def main():
    warnings.simplefilter('ignore')
    logging.disable(logging.CRITICAL)
    request = json.load(sys.stdin)

    from oslo_config import cfg
    from oslo_policy import _parser
    from oslo_policy import policy as oslo_policy
    import ironic.conf  # noqa: F401  (registers [DEFAULT]rbac_service_*)
    from ironic.common import context as ironic_context
    from ironic.common import policy
    from ironic import version as ironic_version

    cfg.CONF(['--config-file', request['config_file']], project='ironic',
             default_config_files=[], default_config_dirs=[])
    policy.init_enforcer()
    enforcer = policy.get_enforcer()
    enforcer.load_rules()
    _speed_up(enforcer)

    rule_names = [r.name for r in policy.list_policies()]
    extra = request.get('extra_rules', [])
    checks = [_parser.parse_rule(s) for s in request.get('checks', [])]

    def letter(call):
        try:
            return 'A' if call() else 'D'
        except oslo_policy.PolicyNotAuthorized:
            return 'D'
        except oslo_policy.InvalidScope:
            return 'S'
        except Exception:  # noqa: B902 - anything oslo lets escape
            return 'E'

    creds_out = {}
    decisions = {}
    for persona in request['personas']:
        ctx = ironic_context.RequestContext(**persona['context'])
        cdict = ctx.to_policy_values()
        creds_out[persona['name']] = {k: cdict[k] for k in cdict}
        per_target = {}
        for target in request['targets']:
            target_dict = dict(cdict)
            target_dict.update(target['fields'])
            out = []
            for name in rule_names:
                out.append(letter(lambda: enforcer.authorize(
                    name, dict(target_dict), ctx, do_raise=True)))
            for name in extra:
                out.append(letter(lambda: enforcer.enforce(
                    name, dict(target_dict), ctx, do_raise=True)))
            for check in checks:
                out.append(letter(lambda: enforcer.enforce(
                    check, dict(target_dict), ctx, do_raise=True)))
            per_target[target['name']] = ''.join(out)
        decisions[persona['name']] = per_target

    json.dump({
        'ironic_version': ironic_version.version_info.version_string(),
        'policy_path': enforcer.policy_path,
        'rule_names': rule_names,
        'effective': {name: str(check) for name, check in enforcer.rules.items()},
        'creds': creds_out,
        'decisions': decisions,
        'parsed': [str(_parser.parse_rule(s)) for s in request.get('parse', [])],
    }, sys.stdout, default=str)


if __name__ == '__main__':
    main()

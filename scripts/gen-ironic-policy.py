#!/usr/bin/python3
"""Generates src/policy/ironic-21.4-defaults.json from Ironic 21.4's policy-in-code.

GENERATED FILE: src/policy/ironic-21.4-defaults.json is this script's output,
from Ironic 21.4 (Debian 12 python3-ironic 21.4.x); do not edit it by hand.

The proxy calls its sites with admin credentials, so it must authorise users
exactly as Ironic would: this script dumps, in registration order, every rule
that ironic.common.policy.list_policies() registers (the base rules such as
admin_api, is_node_owner and service_role included) as

    [{"name", "check_str", "scope_types", "deprecated": {"name", "check_str"} | null}]

Run it with the Python that has Ironic installed (Debian 12: python3-ironic
21.4, python3-oslo.policy 4.0):

    /usr/bin/python3 scripts/gen-ironic-policy.py [OUTPUT]

The output is committed; regenerate it only when moving to another Ironic
release (and rename the file after that release).
"""

import json
import os
import sys
import warnings

EXPECTED_IRONIC = '21.4'


def main():
    warnings.simplefilter('ignore')
    here = os.path.dirname(os.path.abspath(__file__))
    out = (sys.argv[1] if len(sys.argv) > 1 else
           os.path.join(here, '..', 'src', 'policy',
                        'ironic-21.4-defaults.json'))

    from ironic.common import policy
    from ironic import version as ironic_version

    version = ironic_version.version_info.version_string()
    if not version.startswith(EXPECTED_IRONIC + '.'):
        sys.exit('gen-ironic-policy: Ironic %s found, this file is for %s.x'
                 % (version, EXPECTED_IRONIC))

    rules = []
    for default in policy.list_policies():
        dep = default.deprecated_rule
        rules.append({
            'name': default.name,
            'check_str': default.check_str,
            'scope_types': (list(default.scope_types)
                            if default.scope_types is not None else None),
            'deprecated': ({'name': dep.name, 'check_str': dep.check_str}
                           if dep else None),
        })

    names = [r['name'] for r in rules]
    if len(set(names)) != len(names):
        sys.exit('gen-ironic-policy: duplicate rule names')

    # JSON has no comments: the file is the bare array; src/policy/defaults.ts
    # says where it comes from, and this script refuses another Ironic release.
    with open(out, 'w') as f:
        f.write('[\n')
        f.write(',\n'.join(json.dumps(r) for r in rules))
        f.write('\n]\n')
    print('gen-ironic-policy: %d rules from Ironic %s -> %s'
          % (len(rules), version, os.path.relpath(out)))


if __name__ == '__main__':
    main()

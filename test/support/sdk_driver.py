"""Drive openstacksdk's baremetal proxy against one endpoint, for tests.

Usage: /usr/bin/python3 sdk_driver.py ENDPOINT [JSON]
  JSON (argv[2] or stdin) is one command object or a list of them, run in
  order over one Connection. Prints one JSON document: a result object, or
  a list of them for a list input.

Command: {"op": NAME, ...args, "api_version": "1.50"?, "trace": true?,
          "connection": {...}?}
  api_version (optional, first command only) is passed as
  Connection(baremetal_api_version=...). A version with a dot ("1.50")
  makes it the default microversion of every call; without it the SDK
  negotiates min(server max, resource max) per call (Node: 1.76).
  connection (optional, first command only): more Connection() keyword
  arguments, overriding the defaults auth_type='none' and
  baremetal_endpoint_override=ENDPOINT, e.g. {"auth_type": "password",
  "auth": {"auth_url": ..., "username": ..., ...}}.

Ops:
  list_nodes      details?, limit?, marker?, fields?, filters? {...},
                  max_items? (stop after N), paginated? (default true)
  get_node        id, fields?
  find_node       id, ignore_missing? (default true)
  create_node     attrs {...} (SDK names: driver, name, conductor_group...)
  update_node     id, attrs {...}
  patch_node      id, patch [...]
  delete_node     id, ignore_missing? (default false)
  set_provision_state  id, target, wait?, timeout?, config_drive?,
                  clean_steps?, deploy_steps?
  wait_for_provision_state  id, state, timeout?
  set_power_state id, target, wait?, timeout?
  set_maintenance id, state (bool), reason?
  call            method (name of a conn.baremetal method), args?, kwargs?
                  e.g. {"op":"call","method":"ports","kwargs":{"details":true}}

Result: {"ok": true, "result": ..., "requests"?: [...]} or
        {"ok": false, "error": {"type", "message", "status_code"?,
         "details"?, "request_id"?, "url"?}, "requests"?: [...]}
  Resources are rendered with to_dict(computed=False) (SDK attribute
  names, e.g. "id", "is_maintenance"); "requests" (with "trace": true)
  lists every HTTP request the SDK made: method, url, status, and the
  X-OpenStack-Ironic-API-Version sent.
"""

import json
import sys
import types


def _render(value):
    from openstack import resource
    if isinstance(value, resource.Resource):
        return value.to_dict(computed=False)
    if isinstance(value, (list, tuple)):
        return [_render(v) for v in value]
    if isinstance(value, types.GeneratorType):
        return [_render(v) for v in value]
    if isinstance(value, dict):
        return {k: _render(v) for k, v in value.items()}
    return value


def _error(exc):
    from openstack import exceptions
    err = {'type': type(exc).__name__, 'message': str(exc)}
    if isinstance(exc, exceptions.HttpException):
        err['status_code'] = exc.status_code
        err['details'] = exc.details
        err['request_id'] = exc.request_id
        err['url'] = exc.url
        if exc.response is not None:
            err['body'] = exc.response.text
    return err


def _list_nodes(bm, cmd):
    query = dict(cmd.get('filters') or {})
    for key in ('limit', 'marker', 'fields'):
        if cmd.get(key) is not None:
            query[key] = cmd[key]
    max_items = cmd.get('max_items')
    if cmd.get('paginated', True):
        gen = bm.nodes(details=bool(cmd.get('details')), **query)
    else:
        from openstack.baremetal.v1 import _common
        from openstack.baremetal.v1 import node as _node
        base_path = _node.Node.base_path
        if cmd.get('details'):
            base_path += '/detail'
        gen = super(_common.ListMixin, _node.Node).list(
            bm, paginated=False, base_path=base_path, **query)
    out = []
    for n in gen:
        out.append(n.to_dict(computed=False))
        if max_items is not None and len(out) >= max_items:
            break
    return out


def _run(conn, cmd):
    bm = conn.baremetal
    op = cmd.get('op')
    if op == 'list_nodes':
        return _list_nodes(bm, cmd)
    if op == 'get_node':
        return bm.get_node(cmd['id'], fields=cmd.get('fields'))
    if op == 'find_node':
        return bm.find_node(cmd['id'],
                            ignore_missing=cmd.get('ignore_missing', True))
    if op == 'create_node':
        return bm.create_node(**cmd.get('attrs', {}))
    if op == 'update_node':
        return bm.update_node(cmd['id'], **cmd.get('attrs', {}))
    if op == 'patch_node':
        return bm.patch_node(cmd['id'], cmd['patch'])
    if op == 'delete_node':
        return bm.delete_node(cmd['id'],
                              ignore_missing=cmd.get('ignore_missing', False))
    if op == 'set_provision_state':
        kwargs = {k: cmd[k] for k in ('wait', 'timeout', 'config_drive',
                                      'clean_steps', 'deploy_steps')
                  if k in cmd}
        return bm.set_node_provision_state(cmd['id'], cmd['target'], **kwargs)
    if op == 'wait_for_provision_state':
        node = bm.get_node(cmd['id'])
        return node.wait_for_provision_state(
            bm, cmd['state'], timeout=cmd.get('timeout'))
    if op == 'set_power_state':
        return bm.set_node_power_state(cmd['id'], cmd['target'],
                                       wait=cmd.get('wait', False),
                                       timeout=cmd.get('timeout'))
    if op == 'set_maintenance':
        if cmd.get('state', True):
            return bm.set_node_maintenance(cmd['id'], reason=cmd.get('reason'))
        return bm.unset_node_maintenance(cmd['id'])
    if op == 'call':
        method = cmd['method']
        if method.startswith('_'):
            raise ValueError('private methods are not callable: %s' % method)
        fn = getattr(bm, method)
        return fn(*cmd.get('args', []), **cmd.get('kwargs', {}))
    raise ValueError('unknown op %r' % (op,))


def main():
    if len(sys.argv) < 2:
        sys.exit('usage: sdk_driver.py ENDPOINT [JSON]')
    endpoint = sys.argv[1]
    raw = sys.argv[2] if len(sys.argv) > 2 else sys.stdin.read()
    doc = json.loads(raw)
    cmds = doc if isinstance(doc, list) else [doc]

    import openstack
    from openstack import connection
    openstack.enable_logging(debug=False)

    kwargs = {'auth_type': 'none', 'baremetal_endpoint_override': endpoint}
    api_version = cmds[0].get('api_version') if cmds else None
    if api_version:
        kwargs['baremetal_api_version'] = api_version
    if cmds and cmds[0].get('connection'):
        kwargs.update(cmds[0]['connection'])
    conn = connection.Connection(**kwargs)

    requests_log = []

    def hook(resp, *args, **kw):
        req = resp.request
        requests_log.append({
            'method': req.method,
            'url': req.url,
            'status': resp.status_code,
            'api_version': req.headers.get('X-OpenStack-Ironic-API-Version'),
        })

    # keystoneauth's Session wraps a requests.Session.
    conn.session.session.hooks['response'].append(hook)

    results = []
    for cmd in cmds:
        start = len(requests_log)
        try:
            res = {'ok': True, 'result': _render(_run(conn, cmd))}
        except Exception as exc:  # reported, not raised
            res = {'ok': False, 'error': _error(exc)}
        if cmd.get('trace'):
            res['requests'] = requests_log[start:]
        results.append(res)

    out = results if isinstance(doc, list) else results[0]
    json.dump(out, sys.stdout, default=str)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()

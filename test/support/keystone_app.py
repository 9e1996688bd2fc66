"""Run a real Keystone (Debian's python3-keystone) for the test harness.

Used by test/support/keystone.ts; run with /usr/bin/python3 (the python3
first on PATH may be an interpreter that cannot import keystone).

  keystone_app.py setup --config-file F --public-url URL --region R
      keystone-manage db_sync, PRAGMA journal_mode=WAL on the SQLite file,
      fernet_setup, credential_setup, bootstrap (admin user, project, the
      admin/member/reader roles, region R, the identity endpoint URL).
      Keystone is imported once and every step runs in a forked child, so
      the whole setup takes about 2 s instead of 4 x 2 s of keystone-manage.
      The admin password comes from the environment (OS_BOOTSTRAP_PASSWORD),
      never from argv.

  keystone_app.py serve --config-file F [--config-file F2] --bind HOST:PORT
                        [--access-log]
      gunicorn, gthread worker class, 1 worker, 1 thread, keep-alive 10 s.
      One worker keeps the in-process [cache] (dogpile.cache.memory)
      consistent. The app is built by keystone.server.flask.core with
      sys.argv emptied, so oslo.config does not parse gunicorn's arguments.

  keystone_app.py token --config-file F [--config-file F2] --expiration SECONDS
      Reads a POST /v3/auth/tokens body (JSON) on stdin, loads the Keystone
      app in this process with [token] expiration = SECONDS over the same
      database and fernet keys, posts the body to it and prints
      {"status": ..., "token": ..., "body": ...} on stdout. Keystone has no
      API to ask for a short-lived token; this is how tests get one.

Options for every mode:
  --die-with-parent  the kernel sends SIGTERM to this process when its
                     parent (the test process) dies, even by SIGKILL
                     (Linux prctl PR_SET_PDEATHSIG), so nothing outlives
                     the tests. gunicorn's worker exits when its master goes.
"""

import argparse
import json
import os
import signal
import sys


def _die_with_parent():
    import ctypes
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_PDEATHSIG = 1
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        sys.stderr.write('keystone_app.py: prctl(PR_SET_PDEATHSIG) failed '
                         'with errno %d\n' % ctypes.get_errno())
        return
    expected = os.environ.get('KEYSTONE_APP_PARENT_PID')
    if (expected and str(parent) != expected) or parent == 1:
        sys.exit('keystone_app.py: parent process is gone, exiting')


def build_app(config_files):
    """The Keystone WSGI app (as keystone-wsgi-public builds it)."""
    from keystone.server.flask import core as flask_core
    saved = sys.argv
    # oslo.config parses sys.argv[1:] when the app is configured.
    sys.argv = [saved[0] if saved else 'keystone']
    try:
        return flask_core.initialize_application(
            name='public', config_files=list(config_files))
    finally:
        sys.argv = saved


# ---------------------------------------------------------------------------
# setup

def _run_forked(fn, *args):
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            fn(*args)
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except BaseException:
            import traceback
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _sqlite_path(config_file):
    import configparser
    cp = configparser.ConfigParser(interpolation=None)
    cp.read(config_file)
    url = cp.get('database', 'connection')
    prefix = 'sqlite:///'
    if not url.startswith(prefix):
        raise SystemExit('keystone_app.py: [database] connection is not '
                         'sqlite: %s' % url)
    return url[len(prefix):]


def setup(args):
    import time
    t0 = time.monotonic()
    from keystone.cmd import cli
    # Import what the commands need before forking, once.
    import keystone.cmd.bootstrap  # noqa: F401
    import keystone.common.fernet_utils  # noqa: F401
    import keystone.common.sql.upgrades  # noqa: F401
    t_import = time.monotonic() - t0
    if not os.environ.get('OS_BOOTSTRAP_PASSWORD'):
        raise SystemExit('keystone_app.py setup: OS_BOOTSTRAP_PASSWORD is not set')
    conf = args.config_file[0]
    base = ['keystone-manage']
    for f in args.config_file:
        base += ['--config-file', f]
    uid, gid = str(os.getuid()), str(os.getgid())

    def manage(*cmd):
        t = time.monotonic()
        code = _run_forked(cli.main, base + list(cmd))
        took = time.monotonic() - t
        sys.stderr.write('keystone_app.py setup: %s -> %s in %.2f s\n'
                         % (cmd[0], code, took))
        if code != 0:
            raise SystemExit('keystone-manage %s failed with %s'
                             % (cmd[0], code))

    manage('db_sync')
    import sqlite3
    con = sqlite3.connect(_sqlite_path(conf))
    try:
        mode = con.execute('PRAGMA journal_mode=WAL').fetchone()[0]
    finally:
        con.close()
    if mode.lower() != 'wal':
        raise SystemExit('keystone_app.py: could not switch the database to '
                         'WAL (got %r)' % mode)
    manage('fernet_setup', '--keystone-user', uid, '--keystone-group', gid)
    manage('credential_setup', '--keystone-user', uid, '--keystone-group', gid)
    manage('bootstrap',
           '--bootstrap-username', args.admin_user,
           '--bootstrap-project-name', args.admin_project,
           '--bootstrap-region-id', args.region,
           '--bootstrap-public-url', args.public_url)
    print(json.dumps({'import_s': round(t_import, 3),
                      'total_s': round(time.monotonic() - t0, 3)}))
    return 0


# ---------------------------------------------------------------------------
# serve

def serve(args):
    from gunicorn.app.base import BaseApplication

    config_files = list(args.config_file)

    class KeystoneApplication(BaseApplication):
        def load_config(self):
            self.cfg.set('bind', [args.bind])
            self.cfg.set('worker_class', 'gthread')
            self.cfg.set('workers', 1)
            self.cfg.set('threads', 1)
            self.cfg.set('keepalive', 10)
            self.cfg.set('timeout', 120)
            self.cfg.set('graceful_timeout', 2)
            self.cfg.set('proc_name', 'keystone-test')
            self.cfg.set('errorlog', '-')
            if args.access_log:
                self.cfg.set('accesslog', '-')

        def load(self):
            # In the worker: build the app (and its memory cache) there.
            return build_app(config_files)

    sys.argv = [sys.argv[0]]
    KeystoneApplication().run()
    return 0


# ---------------------------------------------------------------------------
# token

def token(args):
    body = sys.stdin.read()
    json.loads(body)  # fail early on garbage
    override = os.path.join(os.path.dirname(os.path.abspath(
        args.config_file[0])), 'short-token.%d.conf' % os.getpid())
    with open(override, 'w') as f:
        f.write('[token]\nexpiration = %d\n' % args.expiration)
    try:
        app = build_app(list(args.config_file) + [override])
    finally:
        os.unlink(override)
    from werkzeug.test import Client
    client = Client(app)
    resp = client.post('/v3/auth/tokens?nocatalog', data=body,
                       content_type='application/json',
                       environ_base={'REMOTE_ADDR': '127.0.0.1'})
    try:
        parsed = json.loads(resp.get_data(as_text=True) or 'null')
    except ValueError:
        parsed = resp.get_data(as_text=True)
    out = {'status': resp.status_code,
           'token': resp.headers.get('X-Subject-Token'),
           'body': parsed}
    sys.stdout.write(json.dumps(out) + '\n')
    sys.stdout.flush()
    return 0 if resp.status_code == 201 else 3


def main():
    p = argparse.ArgumentParser(prog='keystone_app.py')
    p.add_argument('mode', choices=['setup', 'serve', 'token'])
    p.add_argument('--config-file', action='append', required=True)
    p.add_argument('--die-with-parent', action='store_true')
    p.add_argument('--public-url')
    p.add_argument('--region', default='RegionOne')
    p.add_argument('--admin-user', default='admin')
    p.add_argument('--admin-project', default='admin')
    p.add_argument('--bind')
    p.add_argument('--access-log', action='store_true')
    p.add_argument('--expiration', type=int)
    args = p.parse_args()
    if args.die_with_parent:
        _die_with_parent()
    if args.mode == 'setup':
        if not args.public_url:
            p.error('setup needs --public-url')
        return setup(args)
    if args.mode == 'serve':
        if not args.bind:
            p.error('serve needs --bind')
        return serve(args)
    if args.expiration is None or args.expiration < 1:
        p.error('token needs --expiration >= 1')
    return token(args)


if __name__ == '__main__':
    sys.exit(main())

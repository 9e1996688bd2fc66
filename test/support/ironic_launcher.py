"""Start one Ironic service (Debian's python3-ironic) for the test harness.

Usage: /usr/bin/python3 ironic_launcher.py MODE [OPTIONS] -- ARGS...
  MODE: dbsync | singleprocess | conductor | api
  ARGS: passed to the Ironic entry point as sys.argv[1:]
        (e.g. --config-file ironic.conf [create_schema]).

OPTIONS:
  --die-with-parent   ask the kernel to SIGKILL this process when its parent
                      (the test process) dies, even by SIGKILL, so that no
                      site outlives the tests (Linux prctl PR_SET_PDEATHSIG).
  --sqlite-immediate  see below.

--sqlite-immediate makes every SQLite transaction start with
BEGIN IMMEDIATE and wait up to 30 s for the lock. It is needed when more
than one process shares one SQLite file (one conductor process per
conductor group): oslo.db opens every transaction with a deferred BEGIN,
so two processes that both read and then write deadlock and one of them
fails at once with "database is locked" (no busy wait is possible for a
read lock upgrade). Taking the write lock up front serialises the
processes instead, which is fine for a test site.
"""

import sys

MODES = {
    'dbsync': ('ironic.cmd.dbsync', 'ironic-dbsync'),
    'singleprocess': ('ironic.cmd.singleprocess', 'ironic'),
    'conductor': ('ironic.cmd.conductor', 'ironic-conductor'),
    'api': ('ironic.cmd.api', 'ironic-api'),
}


def _sqlite_immediate():
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import Pool

    def before_cursor_execute(conn, cursor, statement, parameters, context,
                              executemany):
        if statement.strip().upper() == 'BEGIN':
            statement = 'BEGIN IMMEDIATE'
        return statement, parameters

    def on_connect(dbapi_con, con_record):
        if dbapi_con.__class__.__module__.startswith('sqlite3'):
            dbapi_con.execute('PRAGMA busy_timeout = 30000')

    event.listen(Engine, 'before_cursor_execute', before_cursor_execute,
                 retval=True)
    event.listen(Pool, 'connect', on_connect)


def _die_with_parent():
    import ctypes
    import os
    import signal
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_PDEATHSIG = 1
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        sys.stderr.write('ironic_launcher.py: prctl(PR_SET_PDEATHSIG) failed '
                         'with errno %d\n' % ctypes.get_errno())
        return
    expected = os.environ.get('IRONIC_LAUNCHER_PARENT_PID')
    if (expected and str(parent) != expected) or parent == 1:
        # The parent died before prctl took effect.
        sys.exit('ironic_launcher.py: parent process is gone, exiting')


def main():
    argv = sys.argv[1:]
    if not argv or argv[0] not in MODES:
        sys.exit('usage: ironic_launcher.py %s [OPTIONS] -- ARGS'
                 % '|'.join(MODES))
    mode, rest = argv[0], argv[1:]
    opts = []
    while rest and rest[0] != '--':
        opts.append(rest.pop(0))
    if rest:
        rest.pop(0)
    unknown = set(opts) - {'--die-with-parent', '--sqlite-immediate'}
    if unknown:
        sys.exit('ironic_launcher.py: unknown option(s) %s'
                 % ' '.join(sorted(unknown)))

    if '--die-with-parent' in opts:
        _die_with_parent()
    # Let Ironic monkey-patch (eventlet) before anything else is imported.
    import ironic.cmd  # noqa: F401
    if '--sqlite-immediate' in opts:
        _sqlite_immediate()

    module_name, prog = MODES[mode]
    module = __import__(module_name, fromlist=['main'])
    sys.argv = [prog] + rest
    return module.main()


if __name__ == '__main__':
    sys.exit(main())

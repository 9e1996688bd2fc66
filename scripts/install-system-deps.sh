#!/bin/sh
# Install the real OpenStack parts the integration tests run against:
# Ironic (API + conductor), its CLI (python-ironicclient / openstackclient),
# openstacksdk, Keystone (+ gunicorn to serve it), nginx (TLS front end) and
# redis-server (the shared store of replicas; tests start their own, no systemd);
# chromium for the status page's browser test (driven by puppeteer-core, which
# downloads no browser) and prometheus for promtool, which checks the alert
# rules in deploy/prometheus/ — these two without their recommended packages
# (no exporters, no services).
#
# Idempotent and non-interactive: installs only what is missing and runs
# `apt-get update` once, only when something is missing. Needs root (or sudo)
# on Debian 12 (bookworm), where python3-ironic is 21.4 (API 1.1 .. 1.82).
#
# Usage: sudo scripts/install-system-deps.sh
set -eu

PACKAGES="python3-ironic python3-ironicclient python3-openstacksdk \
python3-openstackclient nginx-light python3-keystone python3-gunicorn \
redis-server"
LEAN_PACKAGES="chromium prometheus"

log() { printf '%s\n' "install-system-deps: $*"; }
die() { printf '%s\n' "install-system-deps: ERROR: $*" >&2; exit 1; }

command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script needs Debian/Ubuntu (tested on Debian 12)"

is_installed() {
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

missing=""
lean_missing=""
for p in $PACKAGES $LEAN_PACKAGES; do
    if is_installed "$p"; then
        log "already installed: $p"
    else
        missing="$missing $p"
        case " $LEAN_PACKAGES " in *" $p "*) lean_missing="$lean_missing $p" ;; esac
    fi
done

if [ -z "$missing" ]; then
    log "nothing to do: all packages present"
    exit 0
fi

log "missing:$missing"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        die "must run as root (or with password-less sudo) to install:$missing"
    fi
fi

export DEBIAN_FRONTEND=noninteractive
# Wait for a concurrent apt/dpkg run instead of failing on its lock.
APT="$SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -q"

log "running apt-get update"
$APT update || die "apt-get update failed"

full_missing=""
for p in $missing; do
    case " $LEAN_PACKAGES " in *" $p "*) ;; *) full_missing="$full_missing $p" ;; esac
done
if [ -n "$full_missing" ]; then
    log "installing:$full_missing"
    # shellcheck disable=SC2086
    $APT install $full_missing || die "apt-get install failed for:$full_missing"
fi
if [ -n "$lean_missing" ]; then
    log "installing (without recommended packages):$lean_missing"
    # shellcheck disable=SC2086
    $APT install --no-install-recommends $lean_missing || die "apt-get install failed for:$lean_missing"
fi

still=""
for p in $missing; do
    is_installed "$p" || still="$still $p"
done
[ -z "$still" ] || die "packages still not installed after apt-get install:$still"

# Sanity check: the Python stack must import with Debian's interpreter.
/usr/bin/python3 -c 'import ironic, ironicclient, openstack, keystone' \
    || die "/usr/bin/python3 cannot import ironic/ironicclient/openstack/keystone"

log "installed:$missing"

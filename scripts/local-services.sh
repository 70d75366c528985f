#!/usr/bin/env bash
# Starts what the demo and the tests talk to, when it is not already running on this machine:
#   RabbitMQ on 127.0.0.1:5672 (guest/guest) and two memcached servers on 127.0.0.1:11211 and :11212.
# Installs the Debian packages first where they are missing (needs root or sudo).
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: scripts/local-services.sh [--with-python-peers]

Starts what the demo and the tests talk to, where it is not already running: RabbitMQ on
127.0.0.1:5672 (guest/guest, AMQP 0-9-1 and 1.0) and two memcached servers on 127.0.0.1:11211 and :11212 (1 GiB each).
Installs Debian's packages first where they are missing (root or sudo).

  --with-python-peers  also install the real OpenStack peers the tests drive: oslo.messaging's
                       notifier, keystonemiddleware's auth_token, Keystone itself (for the
                       revocation poller's tests), and what the kci_markers filter and the
                       dogpile strategy import; and Prometheus with promtool, for the tests of the
                       alert rules and the dashboard (they start their own; Debian's service is not
                       left running)
  -h, --help           print this help
USAGE
}
with_python_peers=false
for arg in "$@"; do
  case "$arg" in
    --with-python-peers) with_python_peers=true ;;
    -h | --help) usage; exit 0 ;;
    *) echo "local-services: unknown option \"$arg\"" >&2; usage >&2; exit 2 ;;
  esac
done

MEMCACHED_PORTS=(11211 11212)
RUN_DIR="${KCI_RUN_DIR:-$(cd "$(dirname "$0")/.." && pwd)/.run}"
mkdir -p "$RUN_DIR"

say() { echo "local-services: $*" >&2; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=false
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! $apt_updated; then as_root apt-get update -qq >/dev/null; apt_updated=true; fi
  say "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

wait_for_port() {
  local port=$1 what=$2
  for _ in $(seq 1 120); do port_open "$port" && return 0; sleep 0.5; done
  say "$what did not open port $port"; return 1
}

if $with_python_peers; then
  apt_install python3-oslo.messaging python3-keystonemiddleware python3-memcache python3-dogpile.cache keystone \
    python3-webob python3-pastedeploy
fi

if ! port_open 5672; then
  command -v rabbitmq-server >/dev/null || apt_install rabbitmq-server
  say "starting RabbitMQ"
  as_root rabbitmq-server -detached >/dev/null 2>&1 || true
  wait_for_port 5672 RabbitMQ
fi

# AMQP 1.0 (the amqp10 source and its tests): a plugin on RabbitMQ 3, enabled here where it is not yet;
# RabbitMQ 4 speaks it natively and lists no such plugin.
if as_root rabbitmq-plugins list -q 2>/dev/null | grep -Eq '^\[ +\] rabbitmq_amqp1_0 '; then
  say "enabling RabbitMQ's AMQP 1.0 plugin"
  as_root rabbitmq-plugins enable rabbitmq_amqp1_0 >/dev/null
fi

command -v memcached >/dev/null || apt_install memcached
for port in "${MEMCACHED_PORTS[@]}"; do
  if ! port_open "$port"; then
    say "starting memcached on 127.0.0.1:$port"
    user_flag=(); [ "$(id -u)" -eq 0 ] && user_flag=(-u root)
    memcached -d "${user_flag[@]}" -l 127.0.0.1 -p "$port" -U 0 -m 1024 -P "$RUN_DIR/memcached-$port.pid"
    wait_for_port "$port" "memcached"
  fi
done

# Prometheus and promtool: the tests of the alert rules and the dashboard start a Prometheus of their
# own, on a free port, and stop it. None runs here: where the package's init script started Debian's
# service (on :9090, for good), it is stopped and kept from starting at boot. Only when this script
# installed it: a Prometheus that was already there is someone's and is left alone.
if $with_python_peers && { ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; }; then
  apt_install prometheus
  if [ -x /etc/init.d/prometheus ]; then
    as_root /etc/init.d/prometheus stop >/dev/null 2>&1 || true
    as_root update-rc.d prometheus disable >/dev/null 2>&1 || true
  fi
fi

say "RabbitMQ 127.0.0.1:5672, memcached 127.0.0.1:${MEMCACHED_PORTS[0]} and 127.0.0.1:${MEMCACHED_PORTS[1]} are up"

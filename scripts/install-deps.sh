#!/usr/bin/env bash
# Installs what mend needs on Debian 12, skipping what is already installed.
#
#   scripts/install-deps.sh demo   compiler, CMake, Ninja and the libraries
#   scripts/install-deps.sh test   the above, plus the servers and tools the
#                                  integration tests start (nginx, HAProxy, wrk,
#                                  Node.js with the MCP SDK, Chromium) and clang
#                                  for the fuzzers
#
# Run it as root, or as a user who may use sudo.
set -euo pipefail

profile=${1:-test}
case "$profile" in
  demo | test) ;;
  *)
    echo "usage: $0 demo|test (got '$profile')" >&2
    exit 2
    ;;
esac

packages=(build-essential cmake ninja-build libboost-dev libfmt-dev catch2 libbenchmark-dev
          nlohmann-json3-dev libsqlite3-dev)
if [ "$profile" = test ]; then
  packages+=(nginx haproxy wrk clang libclang-rt-14-dev chromium)
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done
# Node.js may come from Debian or from elsewhere (NodeSource bundles npm), so
# look for the commands rather than the packages.
if [ "$profile" = test ]; then
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
fi

as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)

if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing: ${missing[*]}"
  "${as_root[@]}" apt-get update -qq
  # The tests start their own nginx and HAProxy processes on free ports, so a
  # system service that the packages may start does not get in their way.
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The MCP integration test drives the server with the official TypeScript SDK,
# pinned by the committed package-lock.json.
here=$(cd "$(dirname "$0")/.." && pwd)
if [ "$profile" = test ] && [ -f "$here/tests/integration/mcp_sdk/package-lock.json" ]; then
  (cd "$here/tests/integration/mcp_sdk" && npm ci --no-audit --no-fund --loglevel=error)
fi

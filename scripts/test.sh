#!/usr/bin/env bash
# Installs what the test suite needs, then runs all of it: typecheck, lint,
# unit and integration tests (real PostgreSQL, etcd, Redis, OpenSSH and S3-protocol
# servers started by the tests, Chromium for the web pages), and
# `bulwark check` on every example. The README's test command and .ci/run
# both call this script.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*"; }

missing_packages() {
  local pkgs=()
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || pkgs+=(postgresql)
  command -v runuser >/dev/null || pkgs+=(util-linux)
  command -v redis-server >/dev/null || pkgs+=(redis-server)
  command -v openssl >/dev/null || pkgs+=(openssl)
  command -v ip >/dev/null && command -v tc >/dev/null || pkgs+=(iproute2)
  [ -x /usr/sbin/sshd ] || pkgs+=(openssh-server)
  command -v etcd >/dev/null || pkgs+=(etcd-server)
  # postgres.pooler runs PgBouncer (src/postgres-ha/pooler).
  [ -x /usr/sbin/pgbouncer ] || pkgs+=(pgbouncer)
  # gateway.engine: haproxy runs HAProxy (src/gateway/haproxy).
  [ -x /usr/sbin/haproxy ] || pkgs+=(haproxy)
  # Web pages are tested in a real browser (src/testing/browser.ts).
  command -v chromium >/dev/null || pkgs+=(chromium)
  printf '%s\n' "${pkgs[@]}"
}

install_system_packages() {
  mapfile -t pkgs < <(missing_packages | sed '/^$/d')
  [ "${#pkgs[@]}" -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing system packages: ${pkgs[*]}" >&2
    echo "run this script as root, or: sudo apt-get install -y ${pkgs[*]}" >&2
    exit 2
  fi
  log "installing system packages: ${pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
}

install_system_packages

log "installing npm dependencies"
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi

log "typecheck"
npx tsc --noEmit

log "lint"
npx eslint .

log "dependency rules (docs/architecture.md) and size limits"
npm run --silent lint:deps
node scripts/long-functions.mjs

log "build"
npm run build --silent

log "tests"
npx vitest run

log "examples"
for example in examples/*.yaml; do
  node dist/cli/main.js check -c "$example"
done

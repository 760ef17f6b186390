#!/usr/bin/env bash
# Installs what test/support/postgres.ts and certs.ts need (PostgreSQL server
# binaries and the openssl CLI), only when they are missing. Safe to rerun.
set -euo pipefail

have_postgres() { compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; }

if have_postgres && command -v openssl >/dev/null; then
  echo "install-postgres: found $(compgen -G '/usr/lib/postgresql/*/bin/postgres' | sort -V | tail -n 1) and openssl"
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi

# The tests make their own throwaway clusters; the package's default cluster
# would only be a stray server on port 5432.
"${sudo[@]}" mkdir -p /etc/postgresql-common/createcluster.d
echo 'create_main_cluster = false' | "${sudo[@]}" tee /etc/postgresql-common/createcluster.d/no-main-cluster.conf >/dev/null

export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update
"${sudo[@]}" apt-get install -y --no-install-recommends postgresql openssl

have_postgres || { echo "install-postgres: no /usr/lib/postgresql/*/bin/postgres after install" >&2; exit 1; }
echo "install-postgres: installed $(compgen -G '/usr/lib/postgresql/*/bin/postgres' | sort -V | tail -n 1)"

#!/usr/bin/env bash
# Installs Debian's PostgreSQL if missing, starts its cluster on loopback, and makes a `gateway` role (password
# `gateway`, CREATEDB: the tests create a throwaway database each) and a `gateway_test` database.
# Prints the TEST_DATABASE_URL line to export; everything else goes to stderr.
set -euo pipefail
if ! command -v pg_lsclusters >/dev/null; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } >&2
fi
cluster=$(pg_lsclusters -h | awk 'NR == 1 {print $1, $2}')
if [ -z "$cluster" ]; then
  version=$(ls /usr/lib/postgresql | sort -V | tail -1)
  pg_createcluster "$version" main >&2
  cluster="$version main"
fi
# shellcheck disable=SC2086
pg_lsclusters -h | awk '{print $4}' | grep -q online || pg_ctlcluster $cluster start >&2
for _ in $(seq 50); do su postgres -c "psql -qtAX -c 'select 1'" >/dev/null 2>&1 && break; sleep 0.2; done
su postgres -c "psql -qtAX" >&2 <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'gateway') THEN
    CREATE ROLE gateway LOGIN CREATEDB PASSWORD 'gateway';
  END IF;
END $$;
SQL
su postgres -c "psql -qtAX -c \"SELECT 1 FROM pg_database WHERE datname = 'gateway_test'\"" | grep -q 1 \
  || su postgres -c "psql -qtAX -c 'CREATE DATABASE gateway_test OWNER gateway'" >&2
echo "export TEST_DATABASE_URL=postgres://gateway:gateway@127.0.0.1:5432/gateway_test?sslmode=disable"

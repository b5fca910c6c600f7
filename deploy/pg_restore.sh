#!/usr/bin/env bash
# Restore a dump made by pg_backup.sh into a database (docs/operations/backup-restore.md).
#
#   deploy/pg_restore.sh /var/backups/tessera/tessera-tessera-20261204T030000Z.dump \
#       postgresql://user:pass@host:5432/tessera_restore
#
# The target database must exist. If it already holds tables, the restore replaces them only
# with RESTORE_CONFIRM set to the database's name (a guard against restoring over
# production by mistake). The whole restore is one transaction: it lands completely or not.
set -euo pipefail

dump=${1:?usage: pg_restore.sh DUMP DATABASE_URL}
url=${2:?usage: pg_restore.sh DUMP DATABASE_URL}
name=$(basename "${url%%\?*}")

if [ -f "$dump.sha256" ]; then
  (cd "$(dirname "$dump")" && sha256sum --check --quiet "$(basename "$dump").sha256")
else
  echo "pg_restore.sh: no $dump.sha256 beside the dump; cannot check it" >&2
  exit 2
fi

tables=$(psql "$url" -XAtc "select count(*) from pg_tables where schemaname = 'public'")
if [ "$tables" != "0" ] && [ "${RESTORE_CONFIRM:-}" != "$name" ]; then
  echo "pg_restore.sh: $name already has $tables tables; set RESTORE_CONFIRM=$name to replace them" >&2
  exit 3
fi

pg_restore --dbname="$url" --clean --if-exists --no-owner --no-privileges \
           --single-transaction --exit-on-error "$dump"
psql "$url" -XAtc "analyze" >/dev/null
echo "restored $dump into $name"

#!/usr/bin/env bash
# Back up Tessera's PostgreSQL database: a compressed custom-format dump, checked and
# checksummed, and old dumps pruned. docs/operations/backup-restore.md says when and how.
#
#   deploy/pg_backup.sh postgresql://user:pass@host:5432/tessera /var/backups/tessera
#
# KEEP_DAYS (default 14) removes dumps older than that from the directory. Exit code 0 only
# when the dump was written, lists cleanly with pg_restore and has its .sha256 beside it.
set -euo pipefail

url=${1:?usage: pg_backup.sh DATABASE_URL DIRECTORY}
directory=${2:?usage: pg_backup.sh DATABASE_URL DIRECTORY}
keep_days=${KEEP_DAYS:-14}

mkdir -p "$directory"
name=$(basename "${url%%\?*}")
stamp=$(date -u +%Y%m%dT%H%M%SZ)
target="$directory/tessera-$name-$stamp.dump"
partial="$target.partial"
trap 'rm -f "$partial"' EXIT

# A consistent snapshot without locking writers out: pg_dump runs in one repeatable-read
# transaction. --no-owner/--no-privileges make the dump restorable under another role.
pg_dump --dbname="$url" --format=custom --compress=6 --no-owner --no-privileges \
        --file="$partial"
pg_restore --list "$partial" >/dev/null  # the archive is readable end to end
mv "$partial" "$target"
(cd "$directory" && sha256sum "$(basename "$target")" > "$(basename "$target").sha256")

find "$directory" -maxdepth 1 -name 'tessera-*.dump' -mtime "+$keep_days" -print0 |
  while IFS= read -r -d '' old; do rm -f "$old" "$old.sha256"; done

echo "$target"

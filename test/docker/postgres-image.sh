#!/usr/bin/env bash
# Writes to stdout a root filesystem tarball of a PostgreSQL server made from this machine's PostgreSQL 15 (no
# image registry is reachable): a stand-in for the postgres image of Hi.Events' compose files, for
# `docker import`. Like the official image it creates POSTGRES_USER and POSTGRES_DB on its first start in
# /var/lib/postgresql/data, answers pg_isready on its socket, and listens on every address (trust: a test
# server only). It runs as uid 1000: PostgreSQL refuses root.
set -euo pipefail
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
pg=/usr/lib/postgresql/15
mkdir -p "$root$pg/bin" "$root$pg/lib" "$root/usr/share/postgresql" "$root/bin" "$root/tmp" "$root/etc" \
  "$root/var/lib/postgresql/data" "$root/var/run/postgresql"
chmod 1777 "$root/tmp"
for bin in postgres initdb pg_ctl pg_isready psql createdb; do cp "$pg/bin/$bin" "$root$pg/bin/"; done
# Every library but the JIT's (LLVM), which a test server does not need.
find "$pg/lib" -maxdepth 1 -name '*.so' ! -name 'llvmjit*' -exec cp {} "$root$pg/lib/" \;
cp -r /usr/share/postgresql/15 "$root/usr/share/postgresql/15"
cp "$(readlink -f /bin/sh)" "$root/bin/sh"
for lib in $( (ldd "$root$pg"/bin/* "$root$pg"/lib/*.so /bin/sh 2>/dev/null || true) | grep -o '/[^ ]*\.so[^ ]*' | sort -u); do
  [ -e "$lib" ] || continue
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
printf 'root:x:0:0:root:/root:/bin/sh\npostgres:x:1000:1000:postgres:/var/lib/postgresql:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\npostgres:x:1000:\n' > "$root/etc/group"
cat > "$root/usr/local-entrypoint.sh" <<'SCRIPT'
#!/bin/sh
set -e
data=/var/lib/postgresql/data
if [ ! -s "$data/PG_VERSION" ]; then
  initdb -D "$data" -U "${POSTGRES_USER:-postgres}" --auth=trust >/dev/null
  echo "host all all all trust" >> "$data/pg_hba.conf"
  pg_ctl -D "$data" -o "-c listen_addresses=''" -w start >/dev/null
  createdb -U "${POSTGRES_USER:-postgres}" "${POSTGRES_DB:-${POSTGRES_USER:-postgres}}"
  pg_ctl -D "$data" -m fast -w stop >/dev/null
fi
exec postgres -D "$data" -c listen_addresses='*' -c fsync=off
SCRIPT
chmod +x "$root/usr/local-entrypoint.sh"
chown -R 1000:1000 "$root/var/lib/postgresql" "$root/var/run/postgresql"
tar -C "$root" -c .

#!/usr/bin/env bash
# Writes to stdout a root filesystem tarball holding this machine's node and npm, a /bin/sh and the shared
# libraries they need: a Node base image for `docker import` where no image registry is reachable.
set -euo pipefail
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
node=$(readlink -f "$(command -v node)")
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
mkdir -p "$root/usr/local/bin" "$root/usr/local/lib" "$root/bin" "$root/tmp" "$root/root" "$root/etc/ssl/certs" "$root/app"
chmod 1777 "$root/tmp"
cp "$node" "$root/usr/local/bin/node"
cp -r "$npm_dir" "$root/usr/local/lib/npm"
printf '#!/bin/sh\nexec node /usr/local/lib/npm/bin/npm-cli.js "$@"\n' > "$root/usr/local/bin/npm"
chmod +x "$root/usr/local/bin/npm"
cp "$(readlink -f /bin/sh)" "$root/bin/sh"
for lib in $( (ldd "$node"; ldd /bin/sh) | grep -o '/[^ ]*' | sort -u); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000:node:/app:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\nnode:x:1000:\n' > "$root/etc/group"
tar -C "$root" -c .

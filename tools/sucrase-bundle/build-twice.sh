#!/bin/sh
# Determinism check: two clean builds must give byte-identical bundles.
set -eu
cd "$(dirname "$0")"
rm -rf dist && node build.mjs >/dev/null && a=$(sha256sum dist/sucrase.min.js | cut -d' ' -f1)
rm -rf dist && node build.mjs >/dev/null && b=$(sha256sum dist/sucrase.min.js | cut -d' ' -f1)
echo "build 1: $a"; echo "build 2: $b"
[ "$a" = "$b" ] && echo "deterministic: yes" || { echo "deterministic: NO"; exit 1; }

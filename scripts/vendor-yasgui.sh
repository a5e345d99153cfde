#!/usr/bin/env bash
# Refresh the vendored YASGUI (the query page's editor and result viewer) from the npm registry.
#
# The query page must work with no CDN and no network beyond our own server, so the built bundle of
# @zazuko/yasgui is copied into src/apsco_kg/serve/static/yasgui/ and committed. `npm pack` checks
# the tarball against the registry's integrity hash; we record that hash and the version beside
# the files so a reviewer can tell exactly what is vendored.
#
# Usage: scripts/vendor-yasgui.sh [VERSION]      (default: the version pinned below)
set -euo pipefail

VERSION="${1:-4.6.2}"
PACKAGE="@zazuko/yasgui"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/src/apsco_kg/serve/static/yasgui"

command -v npm >/dev/null || { echo "vendor-yasgui: npm is required (apt-get install npm)" >&2; exit 2; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

( cd "$WORK" && npm pack --silent "$PACKAGE@$VERSION" >/dev/null )
TARBALL="$(ls "$WORK"/*.tgz)"
tar -xzf "$TARBALL" -C "$WORK"
INTEGRITY="$(npm view "$PACKAGE@$VERSION" dist.integrity 2>/dev/null)"

for f in yasgui.min.js yasgui.min.css; do
  [ -s "$WORK/package/build/$f" ] || { echo "vendor-yasgui: $f missing from $PACKAGE@$VERSION" >&2; exit 1; }
done

mkdir -p "$DEST"
# The source-map comment would make browsers request a .map we do not ship (a 404 in every log).
sed -e '/^\/\/# sourceMappingURL=/d' "$WORK/package/build/yasgui.min.js" > "$DEST/yasgui.min.js"
cp "$WORK/package/build/yasgui.min.css" "$DEST/yasgui.min.css"
cat > "$DEST/VERSION" <<INFO
package: $PACKAGE
version: $VERSION
integrity: $INTEGRITY
license: MIT (https://github.com/rdfjs/Yasgui)
refreshed-by: scripts/vendor-yasgui.sh
INFO
( cd "$DEST" && sha256sum yasgui.min.js yasgui.min.css > SHA256SUMS )
echo "vendored $PACKAGE@$VERSION into ${DEST#$ROOT/}"

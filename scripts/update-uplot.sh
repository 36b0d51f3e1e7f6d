#!/usr/bin/env bash
# Vendors uPlot (https://github.com/leeoniya/uPlot, MIT) from the npm
# registry into core/dashboard/web/vendor/uplot, where `ebmflow serve`
# embeds it. Usage: scripts/update-uplot.sh [VERSION] (default: latest).
# It needs npm and checks the tarball's integrity as npm does; commit the
# result together with the VERSION file it writes.
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:-$(npm view uplot version)}"
dest=core/dashboard/web/vendor/uplot
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "uplot@$version" >/dev/null && tar -xzf uplot-"$version".tgz)
pkg="$tmp/package"
mkdir -p "$dest"
rm -f "$dest"/*
cp "$pkg/dist/uPlot.iife.min.js" "$pkg/dist/uPlot.min.css" "$pkg/LICENSE" "$dest/"
integrity=$(npm view "uplot@$version" dist.integrity)
printf 'uplot %s\nfrom %s\nintegrity %s\n' "$version" "$(npm view "uplot@$version" dist.tarball)" "$integrity" >"$dest/VERSION"
echo "vendored uplot $version into $dest"

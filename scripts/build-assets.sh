#!/usr/bin/env bash
# Build the vendored GOV.UK Frontend assets for the review web app.
#
#   bash scripts/build-assets.sh        (or: make assets)
#
# Installs the pinned npm devDependencies (package.json / package-lock.json),
# compiles matching/web/assets/app.scss and copies the parts of govuk-frontend
# the app needs into matching/web/static/govuk/. The output is committed, so
# the Python app and CI need neither Node nor a CDN.
#
# Deliberately NOT shipped: the GOV.UK crown/crest (in any image) and the
# GDS Transport font. Both are reserved for GOV.UK services. The build fails
# if the compiled CSS refers to either.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SRC_SCSS="matching/web/assets/app.scss"
OUT="matching/web/static/govuk"
PKG="node_modules/govuk-frontend"
DIST="$PKG/dist/govuk"

log() { printf 'build-assets: %s\n' "$*" >&2; }
die() { printf 'build-assets: ERROR: %s\n' "$*" >&2; exit 1; }

command -v npm >/dev/null || die "npm not found (Node.js 18+ is needed to build assets)"

# 1. Dependencies ------------------------------------------------------------
# --ignore-scripts: nothing here needs an install script (sass is pure JS;
# its optional @parcel/watcher is only for --watch).
if [[ -f package-lock.json ]]; then
  log "npm ci"
  npm ci --no-audit --no-fund --ignore-scripts
else
  log "npm install (no package-lock.json)"
  npm install --no-audit --no-fund --ignore-scripts
fi
[[ -d "$DIST" ]] || die "$DIST missing after npm install"

VERSION="$(node -p 'require("./node_modules/govuk-frontend/package.json").version')"
log "govuk-frontend $VERSION"

# 2. Clean previous generated output (hand-written init.js/README.md stay) ---
mkdir -p "$OUT"
rm -rf "$OUT/assets"
rm -f "$OUT/app.min.css" "$OUT/govuk-frontend.min.js" "$OUT/LICENSE.txt" "$OUT/VERSION"

# 3. CSS ---------------------------------------------------------------------
# govuk-frontend 5 is built on Sass @import, so silence those deprecations
# (--quiet-deps for the package, --silence-deprecation=import for app.scss).
log "sass $SRC_SCSS -> $OUT/app.min.css"
npx --no-install sass \
  --style=compressed \
  --no-source-map \
  --load-path=node_modules \
  --quiet-deps \
  --silence-deprecation=import \
  "$SRC_SCSS" "$OUT/app.min.css"

# 4. JavaScript (ES module) --------------------------------------------------
# The source map is not shipped, so drop its comment: browsers would 404 on
# it and Django's ManifestStaticFilesStorage fails collectstatic on it.
sed -E 's@//# sourceMappingURL=[^ ]*\.map[[:space:]]*$@@' "$DIST/govuk-frontend.min.js" > "$OUT/govuk-frontend.min.js"

# 5. Images: only those the CSS references, never a crown --------------------
# Every image govuk-frontend $VERSION ships (favicons, app icons, the
# OpenGraph image, the footer crest) shows the crown, so this list must stay
# excluded; in practice no image is copied and app.scss maps crown images to
# `none`.
is_crown_image() {
  case "$(basename "$1")" in
    govuk-crest* | govuk-logo* | govuk-icon* | favicon* | govuk-opengraph-image* | *crown*) return 0 ;;
    *) return 1 ;;
  esac
}

mapfile -t URLS < <(grep -o 'url([^)]*)' "$OUT/app.min.css" | sed -E 's/^url\(["'\'']?//; s/["'\'']?\)$//' | sort -u)
for u in "${URLS[@]}"; do
  [[ -z "$u" || "$u" == data:* ]] && continue
  [[ "$u" == /static/govuk/assets/images/* ]] || die "CSS references unexpected url($u)"
  name="${u#/static/govuk/assets/images/}"
  is_crown_image "$name" && die "CSS references crown image $u"
  [[ -f "$DIST/assets/images/$name" ]] || die "CSS references $u but $DIST/assets/images/$name does not exist"
  mkdir -p "$OUT/assets/images"
  cp "$DIST/assets/images/$name" "$OUT/assets/images/$name"
  log "copied image $name"
done
# assets/fonts and assets/rebrand are never copied.

# 6. Licence and version -----------------------------------------------------
LICENSE_SRC=""
for f in LICENSE LICENSE.txt LICENSE.md LICENCE LICENCE.txt; do
  [[ -f "$PKG/$f" ]] && { LICENSE_SRC="$PKG/$f"; break; }
done
if [[ -n "$LICENSE_SRC" ]]; then
  cp "$LICENSE_SRC" "$OUT/LICENSE.txt"
else
  # The npm tarball does not include the repository's LICENSE.txt; its
  # package.json declares MIT, so write the upstream MIT notice.
  [[ "$(node -p 'require("./node_modules/govuk-frontend/package.json").license')" == "MIT" ]] \
    || die "govuk-frontend is no longer MIT-licensed; review before vendoring"
  cat > "$OUT/LICENSE.txt" <<'LICENSE'
GOV.UK Frontend (https://github.com/alphagov/govuk-frontend)
Licensed under the MIT License (as declared in its package.json).

The MIT License (MIT)

Copyright (C) 2017 Crown Copyright (Government Digital Service)

Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies
of the Software, and to permit persons to whom the Software is furnished to do
so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
LICENSE
fi
printf '%s\n' "$VERSION" > "$OUT/VERSION"
# Keep the version named in the hand-written README in step.
if [[ -f "$OUT/README.md" ]]; then
  sed -i -E "s/\*\*govuk-frontend [0-9][0-9A-Za-z.+-]*\*\*/**govuk-frontend $VERSION**/" "$OUT/README.md"
fi

# 7. Checks ------------------------------------------------------------------
CSS="$OUT/app.min.css"
grep -q 'GDS Transport' "$CSS" && die "GDS Transport found in $CSS"
grep -q '@font-face' "$CSS" && die "@font-face found in $CSS"
grep -q 'assets/fonts' "$CSS" && die "font path found in $CSS"
grep -Eq 'url\([^)]*(crest|crown|logo|favicon|govuk-icon|opengraph)' "$CSS" && die "crown image referenced in $CSS"
[[ -d "$OUT/assets/fonts" ]] && die "fonts were copied"
if [[ -d "$OUT/assets" ]]; then
  while IFS= read -r -d '' f; do
    is_crown_image "$f" && die "crown image shipped: $f"
  done < <(find "$OUT/assets" -type f -print0)
fi
grep -q "const version=\"$VERSION\"" "$OUT/govuk-frontend.min.js" || die "govuk-frontend.min.js version mismatch"

log "done: $CSS ($(wc -c < "$CSS") bytes), $OUT/govuk-frontend.min.js ($(wc -c < "$OUT/govuk-frontend.min.js") bytes)"

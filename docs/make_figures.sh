#!/usr/bin/env bash
# Draws the README's mask sheet (docs/mask_sheet.jpg, at most 200 KB) from a public-domain dlib
# example photo in $FACEBENCH_HOME/data/demo. The figure derives from shared data, so it is
# generated here and never committed (.gitignore).
#   FACEBENCH_HOME=../shared bash docs/make_figures.sh
set -euo pipefail
cd "$(dirname "$0")/.."
home="${FACEBENCH_HOME:-../shared}"
photo="$home/data/demo/dlib_examples_faces/2008_002506.jpg"
sheet="$(mktemp -d)/sheet.png"
FACEBENCH_HOME="$home" .venv/bin/facebench detect "$photo" --detector all --masks --save "$sheet" >/dev/null
.venv/bin/python - "$sheet" docs/mask_sheet.jpg <<'PY'
import sys

import cv2

sheet = cv2.imread(sys.argv[1])
scale = 1000 / sheet.shape[1]
small = cv2.resize(sheet, (1000, round(sheet.shape[0] * scale)), interpolation=cv2.INTER_AREA)
for quality in (85, 75, 65, 55):
    ok, encoded = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if ok and len(encoded) <= 200_000:
        break
open(sys.argv[2], "wb").write(encoded.tobytes())
print(f"{sys.argv[2]}: {len(encoded):,} bytes (quality {quality})")
PY

#!/bin/sh
# Regenerates media/icon.png (128x128) from media/src/icon.svg with ImageMagick (or rsvg-convert).
# Kept out of the VSIX by .vscodeignore (media/src/**).
set -eu
cd "$(dirname "$0")/.."
if command -v rsvg-convert >/dev/null; then
  rsvg-convert -w 128 -h 128 src/icon.svg -o icon.png
else
  convert -background none -density 96 src/icon.svg -resize 128x128 icon.png
fi
echo "wrote media/icon.png"

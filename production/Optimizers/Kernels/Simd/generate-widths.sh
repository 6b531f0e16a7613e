#!/bin/sh
# The 256- and 128-bit drivers and conversions are the 512-bit templates with every width halved (the half-width
# types used for 16-bit storage included), so the three widths cannot drift apart. Run after editing a template.
set -eu
cd "$(dirname "$0")"
for f in KernelDriver VectorConvert; do
  sed -e 's/256/128/g' -e 's/512/256/g' -e 's|^// Template for .*|// Generated from '"$f"'512.cs by generate-widths.sh: edit that file, not this one.|' "${f}512.cs" > "${f}256.cs"
  sed -e 's/256/64/g' -e 's/512/128/g' -e 's|^// Template for .*|// Generated from '"$f"'512.cs by generate-widths.sh: edit that file, not this one.|' "${f}512.cs" > "${f}128.cs"
done

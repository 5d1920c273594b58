#!/usr/bin/env bash
# Installs the named Debian packages that are missing (as root, or through sudo).
# Usage: scripts/apt.sh package...
set -euo pipefail
missing=()
for package in "$@"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "parley: please install: ${missing[*]} (apt-get, as root)" >&2; exit 1; }
  sudo=(sudo)
fi
echo "parley: installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

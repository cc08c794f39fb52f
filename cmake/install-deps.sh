#!/bin/sh
# Installs the Debian packages symlearn builds and tests with, skipping those
# already present, so a fresh Debian 12 machine needs nothing else.
# Usage: cmake/install-deps.sh [--with-fashion-mnist] [--with-peers]
#   --with-peers: PyTorch for the side-by-side benchmarks against ../shared/peers
set -eu

pkgs="cmake make g++ pkg-config libeigen3-dev libopenblas-dev libcli11-dev libhdf5-dev
nlohmann-json3-dev doctest-dev libpng-dev zlib1g-dev libssl-dev hdf5-tools python3 python3-h5py python3-numpy time"
for opt in "$@"; do
  case $opt in
    --with-fashion-mnist) pkgs="$pkgs dataset-fashion-mnist" ;;
    --with-peers) pkgs="$pkgs python3-torch python3-scipy" ;;
    *) echo "install-deps: unknown option $opt" >&2; exit 2 ;;
  esac
done

missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null

#!/usr/bin/env bash
# Installs the Debian packages the project needs that are missing. Idempotent; needs root
# (or sudo) only when something is missing.
#   scripts/install-deps.sh          build and run
#   scripts/install-deps.sh --test   also what the tests use (promtool, amtool, chromium ...)
set -euo pipefail

packages=(build-essential cmake ninja-build pkg-config git ca-certificates
  prometheus-cpp-dev libcurl4-openssl-dev nlohmann-json3-dev libyaml-cpp-dev
  libcpp-httplib-dev libboost-dev libssl-dev zlib1g-dev libgtest-dev libgmock-dev libcrypt-dev python3)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(prometheus prometheus-alertmanager curl jq openssl python3-yaml mmdebstrap)
  # The monitoring mixin (deploy/mixin) renders the rule files; the deploy test re-renders them.
  packages+=(jsonnet)
  # Hardening stages of scripts/test.sh: libFuzzer (clang + its runtime), wrk for the hostile
  # scraper test. gcc's ASan/UBSan/TSan runtimes come with build-essential.
  packages+=(clang libclang-rt-14-dev wrk)
  # Operations tests: the status page in headless Chromium, bcrypt hashes from htpasswd.
  packages+=(chromium apache2-utils)
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "Installing: ${missing[*]}" >&2
sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
# Package scripts must not start services (prometheus, alertmanager) on this machine — during
# this install only: the file goes when the script ends, failed or not, so packages installed
# later by the user start their services as usual. A policy the machine already had stays.
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

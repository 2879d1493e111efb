#!/usr/bin/env bash
# Installs the real components the test suite runs against (no mocks of our own parts):
# SoftHSM2 + OpenSC (PKCS#11), PostgreSQL (started per test session on loopback by
# tests/fixtures), the openssl CLI (local RFC 3161 time-stamping authority), and strace
# (tests/context/test_context_db_durable.py observes SQLite's fsyncs).
set -euo pipefail
packages=(softhsm2 opensc postgresql openssl ca-certificates strace)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages present: ${packages[*]}"
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "installing system packages: ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"

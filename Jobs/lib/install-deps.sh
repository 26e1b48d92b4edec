#!/usr/bin/env bash
# Installs what Ballast needs and this machine lacks: Debian's C libraries and
# PostgreSQL server (apt-get), and (for tests) openpyxl, binance-connector, krakenex and
# coinbase-advanced-py.
# Safe to run again: it installs nothing that is already present.
set -euo pipefail

packages=(pkg-config libpq-dev postgresql libcurl4-openssl-dev libxlsxwriter-dev libssl-dev zlib1g-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "ballast: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "${1:-}" = "--with-test-python" ]; then
  # openpyxl reads workbooks back; binance-connector, krakenex and coinbase-advanced-py are the
  # unmodified third-party clients the simulator is checked against; PyYAML reads the
  # Kubernetes example; prometheus-client parses the metrics textfile.
  python3 -c 'import openpyxl, binance.spot, krakenex, coinbase.rest, yaml, prometheus_client' 2>/dev/null || {
    echo "ballast: installing openpyxl, binance-connector, krakenex, coinbase-advanced-py, PyYAML and prometheus-client (test readers)" >&2
    python3 -m pip install -q --disable-pip-version-check openpyxl binance-connector krakenex coinbase-advanced-py pyyaml prometheus-client 2>&1 \
      | grep -v "Running pip as the 'root' user" || true
  }
fi

command -v swift >/dev/null || { echo "ballast: swift is not on PATH (Swift 6 is required)" >&2; exit 1; }

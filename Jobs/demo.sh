#!/usr/bin/env bash
# Ballast's main job on its embedded default: a private PostgreSQL cluster
# (started here, removed on exit), then one `ballast run` writing its reports
# under Output/. No accounts or keys are needed.
set -euo pipefail
cd "$(dirname "$0")/.."
Jobs/lib/install-deps.sh
swift build -c release --product ballast
Jobs/with-private-postgres.sh .build/release/ballast run --out Output "$@"

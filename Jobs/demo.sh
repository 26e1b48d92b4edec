#!/usr/bin/env bash
# Ballast's main job on its embedded default: a private PostgreSQL cluster
# (started here, removed on exit), then the job writing its reports under
# Output/. No accounts or keys are needed.
set -euo pipefail
cd "$(dirname "$0")/.."
Jobs/lib/install-deps.sh
swift build -c release --product ballast
Jobs/with-private-postgres.sh bash -c '.build/release/ballast db migrate && .build/release/ballast report --out Output "$@"' demo "$@"

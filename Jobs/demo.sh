#!/usr/bin/env bash
# Ballast's main job on its embedded default: a private PostgreSQL cluster
# (started here, removed on exit) and three simulated venues on loopback
# (started by `ballast run --simulate`, stopped when it ends). The job pulls,
# measures and writes its reports under Output/<date>/<run-id>/. No accounts
# or keys are needed. Extra arguments go to `ballast run`.
set -euo pipefail
cd "$(dirname "$0")/.."
Jobs/lib/install-deps.sh
swift build -c release --product ballast --scratch-path .build-rel
set +e
Jobs/with-private-postgres.sh .build-rel/release/ballast run --simulate --migrate --out Output "$@"
status=$?
set -e
if [ "$status" = 3 ]; then
  # Finished; the run found reconciliation breaks (the demo accounts' history is trading Ballast
  # did not do) or deferred orders. A scheduler alerts on 3; the demo says so and succeeds.
  echo "demo: finished with reconciliation breaks or deferred orders to look at (ballast run exit 3):" \
    "see the report's Reconciliation and Orders sheets" >&2
  exit 0
fi
exit "$status"

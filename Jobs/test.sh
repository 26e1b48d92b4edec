#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, then runs every test
# against a private PostgreSQL cluster that is started and removed here.
set -euo pipefail
cd "$(dirname "$0")/.."
Jobs/lib/install-deps.sh --with-test-python
swift format lint --strict --recursive Package.swift Sources Tests
swift build --build-tests
# Ends of runs a test leaves unrecorded stay in a folder of this run, not in ~/.local/state.
BALLAST_STATE_DIR="$(mktemp -d /tmp/ballast-state.XXXXXX)"
export BALLAST_STATE_DIR
trap 'rm -rf "$BALLAST_STATE_DIR"' EXIT
Jobs/with-private-postgres.sh swift test --skip-build --disable-xctest "$@"

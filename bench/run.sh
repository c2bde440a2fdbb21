#!/usr/bin/env bash
# Runs the benchmarks (JUnit tests tagged "bench", excluded from the normal test run) and prints their
# results; copy them into docs/benchmarks.md with the machine and date.
#   bench/run.sh                       all benchmarks
#   bench/run.sh AuditVerifyBench      one of them
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f target/bench-results.txt
# the verify benchmark also times the packaged CLI, as an auditor runs it
./mvnw -B -q package -DskipTests
# the Redfish emulator runs as a process of its own in PowerSweepBench
./mvnw -B -q -f redfish-mocks/pom.xml package
./mvnw -B -q test -Dgroups=bench -DexcludedGroups=none -DskipITs -DskipFuzz=true -Dbench.durable-db=true ${1:+-Dtest=$1} -Dsurefire.failIfNoSpecifiedTests=false
echo "== results (target/bench-results.txt) =="
cat target/bench-results.txt
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(java -version 2>&1 | head -1)"

#!/bin/sh
# `make e2e-matrix`: bootstrap, replica creation, the switchover callback and
# the load scenario (1, 2, 3, 6) on the older combinations, each run with
# our tool and then with that Patroni's own Python patroni_barman, side by
# side. The run fails when a scenario of our tool does not pass; the Python
# tool's results are recorded (docs/e2e.md), they do not fail the run.
set -u
cd "$(dirname "$0")/../.."
COMBOS=${E2E_MATRIX:-"3.3.11:3.10.1 4.0.11:3.14.1"}
start=$(date +%s)
rc=0
summary=""
for combo in $COMBOS; do
    patroni=${combo%%:*} barman=${combo#*:}
    for tool in rust python; do
        t=$(date +%s)
        echo "== e2e-matrix: Patroni $patroni, Barman $barman, $tool tool"
        E2E_PATRONI=$patroni E2E_BARMAN=$barman E2E_TOOL=$tool E2E_ONLY=matrix scripts/e2e/run.sh
        r=$?
        summary="$summary
Patroni $patroni + Barman $barman, $tool: exit $r in $(( $(date +%s) - t )) s"
        if [ "$tool" = rust ] && [ "$r" != 0 ]; then rc=1; fi
    done
done
echo "== e2e-matrix:$summary
in all $(( $(date +%s) - start )) s"
exit $rc

#!/bin/sh
# `make e2e`: install what is missing (setup.sh), then the suite under pytest
# (tests/e2e/). One combination per run: E2E_PATRONI, E2E_BARMAN. E2E_ONLY
# picks one scenario (a number, or its name: `3`, `switchover`, `longlist`),
# and pytest builds only what it needs; PYTEST_ARGS goes to pytest as it is.
# pytest's summary line ends the run; its exit code is the run's.
set -eu
cd "$(dirname "$0")/../.."
: "${E2E_ROOT:=/var/lib/patroni_barman-e2e}" "${E2E_PATRONI:=4.1.5}" "${E2E_BARMAN:=3.19.1}"
export E2E_ROOT E2E_PATRONI E2E_BARMAN
scripts/e2e/setup.sh "$E2E_BARMAN" -- "$E2E_PATRONI"
case ${E2E_ONLY:-} in
'') set -- ;;
10 | longlist) set -- -m longlist ;;
# make e2e-matrix: bootstrap, replica, switchover, load
matrix) set -- -m 'not longlist' -k 'test_1_ or test_2_ or test_3_ or test_6_' ;;
[0-9]*) set -- -m 'not longlist' -k "test_${E2E_ONLY}_" ;;
*) set -- -m 'not longlist' -k "$E2E_ONLY" ;;
esac
# The suite's directory is named: testpaths counts only when pytest runs from
# its rootdir, and from here it would walk target/ (dist-check's copies of
# this suite there fail collection as duplicate modules).
# shellcheck disable=SC2086
exec "$E2E_ROOT/venv-pytest/bin/python" -m pytest -c tests/e2e/pytest.ini --rootdir tests/e2e "$@" ${PYTEST_ARGS:-} tests/e2e

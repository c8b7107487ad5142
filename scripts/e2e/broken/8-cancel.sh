#!/bin/sh
# Broken on purpose (scenario 8): recover keeps its record in a new directory at each run,
# so it forgets the earlier restore into the data directory.
REAL=/var/lib/patroni_barman-e2e/bin/real/patroni_barman
case " $* " in *" recover "*)
    d=$(mktemp -d /tmp/e2e-broken-record.XXXXXX) && exec "$REAL" "$@" --record-dir "$d" ;;
esac
exec "$REAL" "$@"

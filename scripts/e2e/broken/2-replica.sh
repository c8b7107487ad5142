#!/bin/sh
# Broken on purpose (scenario 2): recover fails as a replica method.
REAL=/var/lib/patroni_barman-e2e/bin/real/patroni_barman
case " $* " in *" recover "*" --role=replica "*) exit 2 ;; esac
exec "$REAL" "$@"

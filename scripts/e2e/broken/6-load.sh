#!/bin/sh
# Broken on purpose (scenario 6): config-switch exits 3 when the clock's second is a multiple of 3.
REAL=/var/lib/patroni_barman-e2e/bin/real/patroni_barman
case " $* " in *" config-switch "*) [ $(( $(date +%s) % 3 )) = 0 ] && exit 3 ;; esac
exec "$REAL" "$@"

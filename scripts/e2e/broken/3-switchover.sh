#!/bin/sh
# Broken on purpose (scenario 3): config-switch always applies pg1-node1.
REAL=/var/lib/patroni_barman-e2e/bin/real/patroni_barman
n=$#
while [ "$n" -gt 0 ]; do
    a=$1; shift; n=$((n - 1))
    case $a in --barman-model) set -- "$@" --barman-model pg1-node1; shift; n=$((n - 1)) ;; *) set -- "$@" "$a" ;; esac
done
exec "$REAL" "$@"

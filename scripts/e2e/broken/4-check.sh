#!/bin/sh
# Broken on purpose (scenario 4): check says ok and exits 0, whatever it finds.
REAL=/var/lib/patroni_barman-e2e/bin/real/patroni_barman
case " $* " in *" check "*) echo "ok      everything"; exit 0 ;; esac
exec "$REAL" "$@"

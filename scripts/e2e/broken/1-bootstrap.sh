#!/bin/sh
# Broken on purpose (scenario 1): recover fails as a bootstrap method (no --role=replica).
REAL=/var/lib/patroni_barman-e2e/bin/real/patroni_barman
case " $* " in *" recover "*) case " $* " in *" --role=replica "*) ;; *) exit 2 ;; esac ;; esac
exec "$REAL" "$@"

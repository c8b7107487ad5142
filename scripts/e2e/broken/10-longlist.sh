#!/bin/sh
# Broken on purpose (scenario 10): config-switch refuses an operation list over 1 MiB, as 0.1.0 did.
REAL=/var/lib/patroni_barman-e2e/bin/real/patroni_barman
case " $* " in *" config-switch "*)
    size=$(curl -s -m 60 http://127.0.0.1:7480/servers/pg1/operations | wc -c)
    [ "$size" -gt 1048576 ] && { echo "ERROR: body over 1 MiB" >&2; exit 3; } ;;
esac
exec "$REAL" "$@"

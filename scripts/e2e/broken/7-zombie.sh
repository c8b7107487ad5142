#!/bin/sh
# Broken on purpose (scenario 7): the real tool, then a GET of the newest job (a stuck one: it follows it).
REAL=/var/lib/patroni_barman-e2e/bin/real/patroni_barman
"$REAL" "$@"
rc=$?
case " $* " in *" config-switch "*)
    id=$(ls /var/lib/patroni_barman-e2e/run/barman/pg1/jobs | sort | tail -n 1)
    curl -s -m 5 -o /dev/null "http://127.0.0.1:7480/servers/pg1/operations/${id%.json}" ;;
esac
exit $rc

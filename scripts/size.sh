#!/bin/sh
# Prints the size of each binary and fails when one is over its budget.
# Usage: scripts/size.sh BIN BUDGET [BIN BUDGET ...]
status=0
while [ $# -ge 2 ]; do
    size=$(stat -c %s "$1")
    verdict=ok
    [ "$size" -le "$2" ] || { verdict="OVER BUDGET"; status=1; }
    printf '%-60s %8d bytes (%4d KiB), budget %8d: %s\n' "$1" "$size" $((size / 1024)) "$2" "$verdict"
    file -b "$1" | grep -q 'static' || { echo "$1 is not statically linked: $(file -b "$1")"; status=1; }
    shift 2
done
exit $status

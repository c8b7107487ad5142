# shellcheck shell=bash
# Helpers of scripts/e2e/run.sh (`make e2e`): clock, logging, waiting on
# conditions with deadlines, starting processes as other users with their pid
# recorded, and stopping every one of them by pid.

E2E_ROOT=${E2E_ROOT:-/var/lib/patroni_barman-e2e}
RUN=$E2E_ROOT/run            # wiped at the start of each run
PIDS=$RUN/pids               # one file per started process: NAME (pid, start time)
LOGS=$RUN/logs
VB=$E2E_ROOT/venv-barman     # Barman + pg-backup-api + gunicorn
VP=$E2E_ROOT/venv-patroni    # Patroni (+ its Python patroni_barman)
PGBIN=/usr/lib/postgresql/15/bin
# Every port the stack uses: source PG, node PGs, Patroni REST, etcd,
# pg-backup-api, nginx, sshd.
E2E_PORTS="5440 5441 5442 8008 8009 2379 2380 7480 8443 2222"
export TZ=UTC LC_ALL=C.UTF-8

now() { date +%s.%N; }
# elapsed START [END]: seconds between two now() values, one decimal.
elapsed() { awk -v a="$1" -v b="${2:-$(now)}" 'BEGIN { printf "%.1f", b - a }'; }
say() { printf '%s e2e: %s\n' "$(date +%H:%M:%S)" "$*"; }
# die MESSAGE: the one clear line for a missing piece, then the EXIT trap.
die() { printf '%s e2e: ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2; exit 1; }

# wait_for SECONDS DESCRIPTION CMD...: polls CMD until it succeeds. On timeout
# prints one line naming the condition and returns 1. Never waits longer.
wait_for() {
    local secs=$1 desc=$2 deadline
    shift 2
    deadline=$(( $(date +%s%N) + secs * 1000000000 ))
    until "$@" >/dev/null 2>&1; do
        if (( $(date +%s%N) > deadline )); then
            printf '%s e2e: timeout: %s not reached within %s s\n' "$(date +%H:%M:%S)" "$desc" "$secs" >&2
            return 1
        fi
        sleep 0.1
    done
}

# as USER CMD...: runs CMD as USER (setpriv execs: same pid) with a fixed
# environment; CMD may start with `env VAR=value ...` to add to it.
as_prefix() {
    local user=$1 home
    home=$(getent passwd "$user" | cut -d: -f6)
    AS=(setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups
        env -i HOME="$home" USER="$user" LOGNAME="$user" TZ=UTC LANG=C.UTF-8 LC_ALL=C.UTF-8
        PATH="$VB/bin:/usr/bin:/bin:/usr/sbin:/sbin")
}
as() {
    local AS
    as_prefix "$1"
    shift
    "${AS[@]}" "$@"
}

# start NAME USER CMD...: starts CMD in the background in a session of its own
# (pid = process group id), output appended to $LOGS/NAME.log, and records the
# pid and its start time in $PIDS/NAME.
start() {
    local name=$1 user=$2 pid
    shift 2
    local AS=()
    [ "$user" = root ] || as_prefix "$user"
    setsid "${AS[@]}" "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
    pid=$!
    # the pid and its start time, to tell our process from a reused pid
    printf '%s\n%s\n' "$pid" "$(starttime "$pid")" >"$PIDS/$name"
}

# starttime PID: the process's start time in clock ticks since boot.
starttime() { sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20; }

pid_of() { [ -f "$PIDS/$1" ] && head -n 1 "$PIDS/$1"; }
alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# descendants PID: every process below PID (children first listed last).
descendants() {
    local p
    for p in $(ps -o pid= --ppid "$1" 2>/dev/null); do
        echo "$p"
        descendants "$p"
    done
}

# stop NAME [SECONDS] [group]: SIGTERM to the recorded pid (its process group
# with "group"), wait up to SECONDS, then SIGKILL it and every process that
# was below it. Removes the pid file.
stop() {
    local name=$1 secs=${2:-15} mode=${3:-pid} pid kids deadline
    pid=$(pid_of "$name") || return 0
    if alive "$pid"; then
        kids=$(descendants "$pid")
        if [ "$mode" = group ]; then kill -TERM -- "-$pid" 2>/dev/null; else kill -TERM "$pid" 2>/dev/null; fi
        deadline=$(( $(date +%s%N) + secs * 1000000000 ))
        while alive "$pid" && (( $(date +%s%N) < deadline )); do sleep 0.1; done
        if alive "$pid"; then
            say "$name (pid $pid) did not stop within $secs s: SIGKILL"
            kill -KILL -- "-$pid" 2>/dev/null
            kill -KILL "$pid" 2>/dev/null
        fi
        local k
        for k in $kids; do alive "$k" && kill -KILL "$k" 2>/dev/null; done
    fi
    rm -f "$PIDS/$name"
}

port_in_use() { [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }
port_owner() { ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\("[^"]*",pid=[0-9]*\).*/\1/p' | head -n 1; }
listening() { port_in_use "$1"; }

# psql_at PORT SQL: one value (or rows), as postgres over 127.0.0.1 (trust).
psql_at() {
    "$PGBIN/psql" -h 127.0.0.1 -p "$1" -U postgres -d postgres -XAtq -v ON_ERROR_STOP=1 -c "$2" 2>/dev/null
}

# barman CMD...: Barman as user barman, with its own ~/.barman.conf.
barman_cmd() { as barman "$VB/bin/barman" "$@"; }

# mtime FILE: modification time with nanoseconds (empty when missing).
mtime() { stat -c %.9Y "$1" 2>/dev/null; }

# patroni_ts LINE: the epoch of a Patroni log line's timestamp
# ("2026-12-03 04:30:01,123 INFO: ..."; Patroni runs with TZ=UTC).
patroni_ts() {
    local d
    d=$(printf '%s' "$1" | cut -c1-23 | tr , .)
    date -u -d "$d" +%s.%N
}

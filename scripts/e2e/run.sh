#!/usr/bin/env bash
# `make e2e`: patroni_barman against the real stack, on 127.0.0.1, as root.
# PostgreSQL 15, Barman 3.19 + pg-backup-api 2.2.0 (gunicorn and `serve`),
# nginx with mTLS under /pgbackup/, etcd 3.4, two Patroni 4.1.5 nodes and an
# sshd for Barman's restores. Each scenario asserts from ground truth
# (PostgreSQL, Barman's files and processes, Patroni's REST API and log) and
# prints one PASS/FAIL line. See docs/e2e.md.
#
# Environment: E2E_BIN (the binary under test), E2E_TOOL (rust | python: the
# Python patroni_barman of the Patroni venv), E2E_ONLY (one scenario, 1-8;
# the ones it needs run first), PG_BACKUP_API_SRC (the release tarball),
# E2E_ROOT (/var/lib/patroni_barman-e2e), E2E_OUT (results and logs).
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=scripts/e2e/lib.sh
. "$HERE/lib.sh"

E2E_TOOL=${E2E_TOOL:-rust}
E2E_ONLY=${E2E_ONLY:-}
E2E_BIN=${E2E_BIN:-$REPO/target/x86_64-unknown-linux-musl/release/patroni_barman}
PG_BACKUP_API_SRC=${PG_BACKUP_API_SRC:-$REPO/../shared/vendor/pg-backup-api-2.2.0.tar.gz}
OUT=${E2E_OUT:-$REPO/target/e2e}
BARMAN_PIN="barman==3.19.1"
PATRONI_PIN="patroni[etcd]==4.1.5"
PYTHON=/usr/bin/python3      # Debian's: its venvs work for every user
SERVER=pg1                   # the Barman server
SCOPE=e2e                    # the Patroni cluster
API=http://127.0.0.1:7480
NGINX=https://localhost:8443/pgbackup

case $E2E_TOOL in rust | python) ;; *) die "E2E_TOOL must be rust or python, not '$E2E_TOOL'" ;; esac
case $E2E_ONLY in '' | [1-8]) ;; *) die "E2E_ONLY must be one scenario, 1 to 8, not '$E2E_ONLY'" ;; esac
[ "$(id -u)" = 0 ] || die "make e2e runs as root (it installs packages and starts services as postgres and barman)"

T0=$(now)
mkdir -p "$OUT"
RESULTS=$OUT/results-$E2E_TOOL.tsv
: >"$RESULTS.new"
FAILED=0

# ---------------------------------------------------------------- results ---

# result N NAME PASS|FAIL|SKIP FIGURES: the scenario's one line.
result() {
    printf '%s %s %s: %s\n' "$3" "$1" "$2" "$4"
    printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$RESULTS.new"
    [ "$3" != FAIL ] || FAILED=1
}
# metric KEY VALUE: a figure for the side-by-side table.
metric() { printf 'metric\t%s\t%s\n' "$1" "$2" >>"$RESULTS.new"; }

phase_start() { PHASE=$1; PHASE_T=$(now); say "phase: $1"; }
phase_end() { say "phase: $PHASE took $(elapsed "$PHASE_T") s"; }

# ---------------------------------------------------------------- cleanup ---

# Every process this run started is in $PIDS; Patroni first (it stops its
# PostgreSQL), then the clusters that are left (pg_ctl -m immediate), then the
# rest, each by pid with a deadline, then anything still running from
# $E2E_ROOT (Barman's receive-wal, restores left running by the API).
cleanup() {
    local rc=$? name pid d left
    [ "$BASHPID" = "$$" ] || exit "$rc"   # a subshell's exit is not the run's
    trap - EXIT INT TERM HUP
    set +e
    say "cleanup: stopping every process of this run"
    for name in watch load-1 load-2 load-3 load-4; do stop "$name" 5 group; done
    for name in patroni-node2 patroni-node1; do stop "$name" 40; done
    for d in "$RUN"/src/data "$RUN"/node1/data "$RUN"/node2/data; do
        if [ -f "$d/postmaster.pid" ] && alive "$(head -n 1 "$d/postmaster.pid")"; then
            as postgres "$PGBIN/pg_ctl" -D "$d" -m immediate -w -t 30 stop >/dev/null 2>&1
        fi
    done
    for f in "$PIDS"/*; do
        [ -f "$f" ] || continue
        stop "$(basename "$f")" 15 group
    done
    sweep_root
    left=""
    for p in $E2E_PORTS; do port_in_use "$p" && left="$left $p($(port_owner "$p"))"; done
    d=$(ps -eo pid=,args= | grep -F "$E2E_ROOT" | grep -v -e grep -e "$$" | head -n 5)
    if [ -n "$left" ] || [ -n "$d" ]; then
        echo "FAIL cleanup: still listening:${left:- none}; still running: ${d:-none}"
        rc=1
    else
        say "cleanup: nothing of this run is running or listening"
    fi
    [ -d "$RUN/logs" ] && { rm -rf "$OUT/logs"; cp -a "$RUN/logs" "$OUT/logs" 2>/dev/null; }
    summary
    say "total $(elapsed "$T0") s; logs in $OUT/logs"
    if [ "$rc" = 0 ] && [ "$FAILED" != 0 ]; then rc=1; fi
    exit "$rc"
}

# sweep_root: kills, by pid, the processes left whose command line names
# $E2E_ROOT (Barman's receive-wal and pg_receivewal, which barman cron starts
# detached, a restore's rsync): only this suite runs from there.
sweep_root() {
    local pids p deadline
    pids=$(ps -eo pid=,args= | grep -F "$E2E_ROOT" | grep -v grep | awk '{print $1}' | grep -vx -e "$$" -e "$BASHPID")
    [ -n "$pids" ] || return 0
    for p in $pids; do kill -TERM "$p" 2>/dev/null; done
    deadline=$(( $(date +%s%N) + 10000000000 ))
    for p in $pids; do
        while alive "$p" && (( $(date +%s%N) < deadline )); do sleep 0.1; done
        alive "$p" && kill -KILL "$p" 2>/dev/null
    done
    return 0
}

# stop_previous: a run killed before its trap ran may have left processes:
# those of its pid files that are still the same processes, and its clusters.
stop_previous() {
    local f pid st d
    [ -d "$PIDS" ] || return 0
    for f in "$PIDS"/*; do
        [ -f "$f" ] || continue
        pid=$(sed -n 1p "$f"); st=$(sed -n 2p "$f")
        if alive "$pid" && [ "$(starttime "$pid")" = "$st" ]; then
            say "stopping pid $pid ($(basename "$f")) left by an earlier run"
            stop "$(basename "$f")" 20 group
        fi
    done
    for d in "$RUN"/src/data "$RUN"/node1/data "$RUN"/node2/data; do
        [ -f "$d/postmaster.pid" ] && alive "$(head -n 1 "$d/postmaster.pid")" &&
            as postgres "$PGBIN/pg_ctl" -D "$d" -m immediate -w -t 30 stop >/dev/null 2>&1
    done
    sweep_root
}

summary() {
    [ -s "$RESULTS.new" ] || return 0
    mv "$RESULTS.new" "$RESULTS"
    echo
    echo "== e2e summary ($E2E_TOOL tool, $(date -u +%Y-%m-%d)) =="
    awk -F'\t' '$1 != "metric" { printf "%-3s %-22s %-5s %s\n", $1, $2, $3, $4 }' "$RESULTS"
    side_by_side
}

# side_by_side: scenario 9's table, from the last results of each tool.
side_by_side() {
    local r=$OUT/results-rust.tsv p=$OUT/results-python.tsv
    [ -s "$r" ] && [ -s "$p" ] || return 0
    echo
    echo "== side by side: Rust patroni_barman vs Patroni's Python patroni_barman =="
    awk -F'\t' '
        FNR == 1 { f++ }
        $1 == "metric" { m[f, $2] = $3; next }
        { res[f, $1] = $3; name[$1] = $2; if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } }
        END {
            printf "%-3s %-22s %-6s %-6s\n", "#", "scenario", "rust", "python"
            for (i = 1; i <= n; i++) { s = order[i]
                printf "%-3s %-22s %-6s %-6s\n", s, name[s], res[1, s] ? res[1, s] : "-", res[2, s] ? res[2, s] : "-" }
            split("promo_to_model_http promo_to_model_mtls config_switch_wall config_switch_wall_load", k, " ")
            for (i = 1; i <= 4; i++)
                printf "    %-34s %8s s %8s s\n", k[i], (1, k[i]) in m ? m[1, k[i]] : "-", (2, k[i]) in m ? m[2, k[i]] : "-"
        }' "$r" "$p"
}

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# -------------------------------------------------------------- preflight ---

phase_start "preflight and install"
[ -f "$PG_BACKUP_API_SRC" ] || die "pg-backup-api source not found: PG_BACKUP_API_SRC=$PG_BACKUP_API_SRC"
if [ "$E2E_TOOL" = rust ]; then
    [ -x "$E2E_BIN" ] || die "binary under test not found: E2E_BIN=$E2E_BIN (run make build)"
fi
stop_previous
for p in $E2E_PORTS; do
    port_in_use "$p" && die "port $p on 127.0.0.1 is in use (by $(port_owner "$p")); make e2e needs $E2E_PORTS free"
done

# Debian packages, installed when missing. policy-rc.d keeps their services
# from starting (each is started here, on its own port).
install_debs() {
    local need=() rc=0 policy=/usr/sbin/policy-rc.d made=""
    [ -x "$PGBIN/initdb" ] || need+=(postgresql-15)
    command -v nginx >/dev/null || need+=(nginx)
    command -v etcd >/dev/null || need+=(etcd-server)
    [ -x /usr/sbin/sshd ] || need+=(openssh-server)
    command -v ssh >/dev/null || need+=(openssh-client)
    command -v rsync >/dev/null || need+=(rsync)
    command -v curl >/dev/null || need+=(curl)
    command -v openssl >/dev/null || need+=(openssl)
    command -v ss >/dev/null || need+=(iproute2)
    command -v ps >/dev/null || need+=(procps)
    "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
    # psycopg2 (Barman's dependency) builds from source
    command -v pg_config >/dev/null || need+=(libpq-dev)
    command -v gcc >/dev/null || need+=(gcc)
    [ -f /usr/include/python3.11/Python.h ] || need+=(python3-dev)
    [ ${#need[@]} = 0 ] && return 0
    say "apt-get install ${need[*]}"
    if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 755 "$policy"; made=1; fi
    { timeout 300 apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends "${need[@]}"; } \
        >"$OUT/apt.log" 2>&1 || rc=$?
    [ -z "$made" ] || rm -f "$policy"
    [ "$rc" = 0 ] || die "apt-get install ${need[*]} failed (exit $rc): $(grep -E '^E:' "$OUT/apt.log" | head -n 1) (log: $OUT/apt.log)"
}
install_debs

# The venvs: under $E2E_ROOT (readable by postgres and barman), rebuilt when
# what they should hold changes.
make_venv() {
    local dir=$1 stamp=$2 rc=0
    shift 2
    [ -f "$dir/.e2e-stamp" ] && [ "$(cat "$dir/.e2e-stamp")" = "$stamp" ] && return 0
    say "creating $dir ($stamp)"
    rm -rf "$dir"
    { "$PYTHON" -m venv "$dir" &&
        timeout 900 "$dir/bin/pip" install -q --disable-pip-version-check --timeout 60 "$@"; } \
        >"$OUT/pip-$(basename "$dir").log" 2>&1 || rc=$?
    [ "$rc" = 0 ] || die "pip install into $dir failed (exit $rc): $(grep -E 'ERROR' "$OUT/pip-$(basename "$dir").log" | head -n 1) (log: $OUT/pip-$(basename "$dir").log)"
    echo "$stamp" >"$dir/.e2e-stamp"
}
mkdir -p "$E2E_ROOT" && chmod 755 "$E2E_ROOT"
PGBA_SUM=$(sha256sum "$PG_BACKUP_API_SRC" | cut -c1-16)
rm -rf "$E2E_ROOT/src" && mkdir -p "$E2E_ROOT/src"
tar xzf "$PG_BACKUP_API_SRC" -C "$E2E_ROOT/src" || die "cannot unpack $PG_BACKUP_API_SRC"
PGBA_DIR=$(dirname "$(find "$E2E_ROOT/src" -maxdepth 3 -name setup.py -path '*pg_backup_api*' | head -n 1)")
[ -f "$PGBA_DIR/setup.py" ] || die "no pg_backup_api/setup.py in $PG_BACKUP_API_SRC"
make_venv "$VB" "$BARMAN_PIN flask<3 gunicorn pg-backup-api:$PGBA_SUM" "$BARMAN_PIN" 'flask<3' gunicorn "$PGBA_DIR"
make_venv "$VP" "$PATRONI_PIN psycopg2-binary" "$PATRONI_PIN" psycopg2-binary
chmod -R a+rX "$VB" "$VP"
"$VB/bin/barman" --version >/dev/null 2>&1 || die "$VB/bin/barman does not run"
[ -x "$VB/bin/pg-backup-api" ] || die "pg-backup-api is not in $VB/bin"

# The tool under test, where postgres can run it.
mkdir -p "$E2E_ROOT/bin"
if [ "$E2E_TOOL" = rust ]; then
    install -m 0755 "$E2E_BIN" "$E2E_ROOT/bin/patroni_barman"
    TOOL=$E2E_ROOT/bin/patroni_barman
    "$TOOL" --version >/dev/null 2>&1 || die "$TOOL --version fails"
else
    TOOL=$VP/bin/patroni_barman
    [ -x "$TOOL" ] || die "no Python patroni_barman in $VP/bin"
fi
phase_end

# ------------------------------------------------------------------ stack ---

phase_start "stack: users, TLS, sshd, etcd, source PostgreSQL, Barman, pg-backup-api, nginx"
rm -rf "$RUN"
mkdir -p "$RUN" "$PIDS" "$LOGS" && chmod 755 "$RUN" && chmod 1777 "$LOGS"
RUN_ID=$(date -u +%Y%m%dT%H%M%S)-$$
id postgres >/dev/null 2>&1 || useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
BH=$RUN/barman   # barman's home and barman_home
if ! id barman >/dev/null 2>&1; then
    useradd --system --user-group --home-dir "$BH" --shell /bin/bash barman || die "cannot create user barman"
elif [ "$(getent passwd barman | cut -d: -f6)" != "$BH" ]; then
    usermod -d "$BH" barman || die "cannot set barman's home to $BH"
fi
mkdir -p "$BH/.ssh" /var/log/barman /run/sshd
chown barman: /var/log/barman && chmod 755 /run/sshd

# TLS: a private CA, nginx's certificate (SANs localhost, 127.0.0.1) and the
# client certificate (clientAuth) that the nodes present.
TLS=$RUN/tls
mkdir -p "$TLS"
(
    cd "$TLS" || exit 1
    key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
    key ca.key && openssl req -x509 -key ca.key -out ca.pem -days 2 -subj /CN=e2e-ca \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null &&
    key server.key && openssl req -new -key server.key -subj /CN=localhost -out server.csr 2>/dev/null &&
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' >server.ext &&
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext -out server.pem 2>/dev/null &&
    key client.key && openssl req -new -key client.key -subj /CN=patroni -out client.csr 2>/dev/null &&
    printf 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n' >client.ext &&
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile client.ext -out client.pem 2>/dev/null
) || die "openssl could not make the test certificates"
chown postgres: "$TLS/client.key" && chmod 600 "$TLS/client.key" "$TLS/ca.key" "$TLS/server.key"
TLS_OPTS="--ca-file $TLS/ca.pem --cert-file $TLS/client.pem --key-file $TLS/client.key"

# sshd on 127.0.0.1:2222, only for postgres, with barman's key.
mkdir -p "$RUN/ssh"
ssh-keygen -q -t ed25519 -N '' -f "$RUN/ssh/host_key" || die "ssh-keygen failed"
rm -f "$BH/.ssh/id_ed25519" "$BH/.ssh/id_ed25519.pub"
ssh-keygen -q -t ed25519 -N '' -C barman-e2e -f "$BH/.ssh/id_ed25519" || die "ssh-keygen failed"
cp "$BH/.ssh/id_ed25519.pub" "$RUN/ssh/authorized_keys" && chmod 644 "$RUN/ssh/authorized_keys"
cat >"$RUN/ssh/sshd_config" <<EOF
Port 2222
ListenAddress 127.0.0.1
HostKey $RUN/ssh/host_key
PidFile $RUN/ssh/sshd.pid
AuthorizedKeysFile $RUN/ssh/authorized_keys
AllowUsers postgres
# UsePAM: postgres has a locked password (Debian); PAM lets its key in
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM yes
PermitRootLogin no
StrictModes yes
MaxStartups 50:30:100
MaxSessions 50
EOF
cat >"$BH/.ssh/config" <<EOF
Host pg-node1 pg-node2
    HostName 127.0.0.1
    Port 2222
    User postgres
    IdentityFile $BH/.ssh/id_ed25519
    IdentitiesOnly yes
    BatchMode yes
    StrictHostKeyChecking no
    UserKnownHostsFile /dev/null
    LogLevel ERROR
EOF
/usr/sbin/sshd -t -f "$RUN/ssh/sshd_config" || die "sshd refuses $RUN/ssh/sshd_config"
start sshd root /usr/sbin/sshd -D -e -f "$RUN/ssh/sshd_config"

# etcd 3.4, one member.
start etcd root etcd --name e2e --data-dir "$RUN/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster e2e=http://127.0.0.1:2380 --initial-cluster-state new

# The source cluster, the one Barman backs up first.
mkdir -p "$RUN/src" "$RUN/node1" "$RUN/node2"
chown postgres: "$RUN/src" "$RUN/node1" "$RUN/node2" && chmod 700 "$RUN/src" "$RUN/node1" "$RUN/node2"
as postgres "$PGBIN/initdb" -D "$RUN/src/data" -U postgres --auth=trust -E UTF8 >"$LOGS/initdb.log" 2>&1 ||
    die "initdb failed (log: $LOGS/initdb.log)"
cat >>"$RUN/src/data/postgresql.conf" <<EOF
port = 5440
listen_addresses = '127.0.0.1'
unix_socket_directories = '$RUN/src'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
fsync = off
EOF
cat >"$RUN/src/data/pg_hba.conf" <<EOF
local all all trust
host all all 127.0.0.1/32 trust
host replication all 127.0.0.1/32 trust
EOF
as postgres "$PGBIN/pg_ctl" -D "$RUN/src/data" -l "$LOGS/pg-src.log" -w -t 60 start >/dev/null ||
    die "the source PostgreSQL did not start (log: $LOGS/pg-src.log)"
psql_at 5440 "CREATE ROLE barman SUPERUSER LOGIN; CREATE ROLE streaming_barman REPLICATION LOGIN;
    CREATE TABLE e2e_rows (id int PRIMARY KEY, v text);
    INSERT INTO e2e_rows SELECT i, 'row ' || i FROM generate_series(1, 200000) i;
    CREATE TABLE e2e_marker (k text PRIMARY KEY, v text);
    INSERT INTO e2e_marker VALUES ('source', '$RUN_ID');" >/dev/null || die "cannot fill the source cluster"
SRC_SYSID=$(psql_at 5440 "SELECT system_identifier FROM pg_control_system()")

# Barman: the server, one model per node, and a model of another cluster.
conninfo() { echo "host=127.0.0.1 port=$1 user=$2 dbname=postgres"; }
# write_barman_conf [EXTRA-SERVER-LINE]: written aside and renamed, so that
# no reader (a gunicorn worker booting, barman cron) sees half a file.
write_barman_conf() {
    cat >"$BH/.barman.conf.new" <<EOF
[barman]
barman_user = barman
barman_home = $BH
log_file = $LOGS/barman.log
log_level = INFO
configuration_files_directory = $BH/conf.d
path_prefix = $PGBIN
minimum_redundancy = 0

[$SERVER]
description = make e2e
cluster = $SERVER
conninfo = $(conninfo 5440 barman)
streaming_conninfo = $(conninfo 5440 streaming_barman)
backup_method = postgres
streaming_archiver = on
slot_name = barman
create_slot = auto
${1:-}

[$SERVER-node1]
cluster = $SERVER
model = true
conninfo = $(conninfo 5441 barman)
streaming_conninfo = $(conninfo 5441 streaming_barman)

[$SERVER-node2]
cluster = $SERVER
model = true
conninfo = $(conninfo 5442 barman)
streaming_conninfo = $(conninfo 5442 streaming_barman)

[other-node1]
cluster = other
model = true
conninfo = $(conninfo 5441 barman)
streaming_conninfo = $(conninfo 5441 streaming_barman)
EOF
    chown barman: "$BH/.barman.conf.new" && mv -f "$BH/.barman.conf.new" "$BH/.barman.conf"
}
mkdir -p "$BH/conf.d"
write_barman_conf
chown -R barman: "$BH" && chmod 700 "$BH/.ssh" && chmod 600 "$BH/.ssh/id_ed25519"
barman_cmd receive-wal --create-slot "$SERVER" >"$LOGS/barman-setup.log" 2>&1 || die "barman receive-wal --create-slot failed (log: $LOGS/barman-setup.log)"
start barman-cron barman bash -c "while :; do $VB/bin/barman -q cron; sleep 1; done"
streaming_from() { [ "$(psql_at "$1" "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'barman_receive_wal' AND state = 'streaming'")" = 1 ]; }
wait_for 60 "barman receive-wal streaming from the source" streaming_from 5440 || die "Barman's receive-wal does not stream (log: $LOGS/barman.log)"
# take_backup: a backup of the server's current PostgreSQL, all its WAL archived.
take_backup() {
    barman_cmd switch-wal --force --archive --archive-timeout 60 "$SERVER" >>"$LOGS/barman-setup.log" 2>&1 &&
        barman_cmd backup --wait --wait-timeout 120 "$SERVER" >>"$LOGS/barman-setup.log" 2>&1
}
take_backup || die "the first Barman backup failed (log: $LOGS/barman-setup.log)"
BACKUP_SIZE=$(du -sm "$BH/$SERVER/base" | cut -f1)

# pg-backup-api, as barman. $1: gunicorn | serve | zombie (gunicorn without
# pg-backup-api on its PATH: each POST leaves a job that never runs).
API_MODE=""
start_api() {
    local mode=$1 conf="PG_BACKUP_API_BARMAN_CONF=$BH/.barman.conf"
    stop api 20 group
    [ -f "$LOGS/api-access.log" ] || install -o barman -g barman -m 644 /dev/null "$LOGS/api-access.log"
    case $mode in
    gunicorn) start api barman env "$conf" "$VB/bin/gunicorn" --bind 127.0.0.1:7480 --workers 2 --timeout 60 \
        --access-logfile "$LOGS/api-access.log" pg_backup_api.app ;;
    serve) start api barman env "$conf" "$VB/bin/pg-backup-api" serve --port 7480 ;;
    zombie) start api barman env "$conf" PATH=/usr/bin:/bin "$VB/bin/gunicorn" --bind 127.0.0.1:7480 --workers 2 \
        --timeout 60 --access-logfile "$LOGS/api-access.log" pg_backup_api.app ;;
    esac
    echo "=== $(date -u +%T) api started as $mode" >>"$LOGS/api-access.log"
    API_MODE=$mode
    wait_for 30 "pg-backup-api ($mode) answering /status" curl -sf "$API/status" || die "pg-backup-api ($mode) does not answer (log: $LOGS/api.log)"
}
start_api gunicorn

# nginx: HTTPS with required client certificates, /pgbackup/ -> the API.
mkdir -p "$RUN/nginx/tmp" && chmod 1777 "$RUN/nginx/tmp"
cat >"$RUN/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $RUN/nginx/nginx.pid;
error_log $LOGS/nginx-error.log;
events { worker_connections 256; }
http {
    access_log $LOGS/nginx-access.log;
    client_body_temp_path $RUN/nginx/tmp/body;
    proxy_temp_path $RUN/nginx/tmp/proxy;
    fastcgi_temp_path $RUN/nginx/tmp/fastcgi;
    uwsgi_temp_path $RUN/nginx/tmp/uwsgi;
    scgi_temp_path $RUN/nginx/tmp/scgi;
    server {
        listen 127.0.0.1:8443 ssl;
        ssl_certificate $TLS/server.pem;
        ssl_certificate_key $TLS/server.key;
        ssl_client_certificate $TLS/ca.pem;
        ssl_verify_client on;
        location /pgbackup/ { proxy_pass http://127.0.0.1:7480/; }
    }
}
EOF
nginx -t -e "$LOGS/nginx-error.log" -c "$RUN/nginx/nginx.conf" >>"$LOGS/nginx.log" 2>&1 || die "nginx refuses its configuration (log: $LOGS/nginx.log)"
start nginx root nginx -e "$LOGS/nginx-error.log" -c "$RUN/nginx/nginx.conf" -g 'daemon off;'

wait_for 30 "etcd healthy" curl -sf http://127.0.0.1:2379/health || die "etcd does not start (log: $LOGS/etcd.log)"
wait_for 15 "sshd listening on 2222" listening 2222 || die "sshd does not start (log: $LOGS/sshd.log)"
as barman ssh pg-node1 true 2>>"$LOGS/barman-setup.log" || die "barman cannot ssh to postgres@127.0.0.1:2222 (log: $LOGS/sshd.log)"
wait_for 15 "nginx answering with a client certificate" curl -sf --cacert "$TLS/ca.pem" --cert "$TLS/client.pem" \
    --key "$TLS/client.key" "$NGINX/status" || die "nginx does not proxy to pg-backup-api (log: $LOGS/nginx-error.log)"
say "stack up: backup of ${BACKUP_SIZE} MB, source system identifier $SRC_SYSID"
phase_end

# ---------------------------------------------------------------- patroni ---

# tool_cmd URL-KIND LOG: the tool's command line prefix (global options) for
# plain HTTP or nginx mTLS, as the tool under test takes them.
tool_cmd() {
    local kind=$1 log=$2
    if [ "$E2E_TOOL" = rust ]; then
        case $kind in
        http) echo "$TOOL --api-url $API --log-file=$log" ;;
        mtls) echo "$TOOL --api-url $NGINX $TLS_OPTS --log-file=$log" ;;
        esac
    else # no CA option (SSL_CERT_FILE, in Patroni's environment); the URL needs its slash
        case $kind in
        http) echo "$TOOL --api-url $API --log-file $log" ;;
        mtls) echo "$TOOL --api-url $NGINX/ --cert-file $TLS/client.pem --key-file $TLS/client.key --log-file $log" ;;
        esac
    fi
}

# patroni_conf N PGPORT RESTPORT RECOVER-KIND CALLBACK-KIND
patroni_conf() {
    local n=$1 port=$2 rest=$3 rkind=$4 ckind=$5 dir=$RUN/node$1
    cat >"$RUN/patroni-node$n.yml" <<EOF
scope: $SCOPE
name: node$n
log:
  level: INFO
restapi:
  listen: 127.0.0.1:$rest
  connect_address: 127.0.0.1:$rest
etcd3:
  hosts: 127.0.0.1:2379
bootstrap:
  dcs:
    ttl: 20
    loop_wait: 2
    retry_timeout: 5
    maximum_lag_on_failover: 16777216
    postgresql:
      use_pg_rewind: false
      parameters:
        wal_level: replica
        max_wal_senders: 10
        max_replication_slots: 10
        wal_keep_size: 256MB
        hot_standby: 'on'
        fsync: 'off'
    slots:
      barman:
        type: physical
  method: barman
  barman:
    keep_existing_recovery_conf: true
    command: $(tool_cmd "$rkind" "$LOGS/tool-node$n.log") recover
    barman-server: $SERVER
    backup-id: latest
    ssh-command: ssh pg-node$n
postgresql:
  listen: 127.0.0.1:$port
  connect_address: 127.0.0.1:$port
  data_dir: $dir/data
  bin_dir: $PGBIN
  pgpass: $dir/pgpass
  authentication:
    superuser:
      username: postgres
    replication:
      username: postgres
  parameters:
    unix_socket_directories: $dir
  pg_hba:
    - local all all trust
    - host all all 127.0.0.1/32 trust
    - host replication all 127.0.0.1/32 trust
  create_replica_methods: [barman, basebackup]
  barman:
    command: $(tool_cmd "$rkind" "$LOGS/tool-node$n.log") recover
    barman-server: $SERVER
    ssh-command: ssh pg-node$n
  basebackup:
    checkpoint: fast
  callbacks:
    on_role_change: $(tool_cmd "$ckind" "$LOGS/tool-node$n.log") config-switch --barman-server $SERVER --barman-model $SERVER-node$n --switch-when promoted
EOF
    chown postgres: "$RUN/patroni-node$n.yml"
}
# node1: recover and callback over plain HTTP; node2: recover over nginx mTLS,
# callback over plain HTTP (switchover 1), node1's callback mTLS (switchover 2).
patroni_conf 1 5441 8008 http mtls
patroni_conf 2 5442 8009 mtls http

start_patroni() { # start_patroni N
    local extra=()
    [ "$E2E_TOOL" = python ] && extra=(SSL_CERT_FILE="$TLS/ca.pem")
    start "patroni-node$1" postgres env "${extra[@]}" "$VP/bin/patroni" "$RUN/patroni-node$1.yml"
}
rest() { curl -s -m 5 "http://127.0.0.1:$1$2"; }
is_primary() { curl -sf -m 5 -o /dev/null "http://127.0.0.1:$1/primary"; }
is_replica() { curl -sf -m 5 -o /dev/null "http://127.0.0.1:$1/replica"; }
primary_or_gone() { is_primary "$1" || ! alive "$(pid_of "$2")"; }
# streams NAME PRIMARY-PORT: the primary sees NAME streaming.
streams() { [ "$(psql_at "$2" "SELECT count(*) FROM pg_stat_replication WHERE application_name = '$1' AND state = 'streaming'")" = 1 ]; }
log_size() { stat -c %s "$LOGS/$1.log" 2>/dev/null || echo 0; }
log_since() { tail -c +"$(( $2 + 1 ))" "$LOGS/$1.log" 2>/dev/null; }
marker_on() { psql_at "$1" "SELECT v FROM e2e_marker WHERE k = '$2'"; }
# jobs_into DIR: ids of the recovery jobs whose destination is DIR.
jobs_into() {
    local f
    for f in "$BH/$SERVER/jobs"/*.json; do
        [ -f "$f" ] || continue
        grep -q "\"destination_directory\": *\"$1\"" "$f" && basename "$f" .json
    done
}
# op_status ID: DONE, FAILED or IN_PROGRESS, from Barman's files.
op_status() {
    local o=$BH/$SERVER/output/$1.json
    if [ -z "$1" ]; then echo none
    elif [ -f "$o" ]; then
        if grep -q '"success": *true' "$o"; then echo DONE; else echo FAILED; fi
    else echo IN_PROGRESS; fi
}
active_model() { cat "$BH/$SERVER/.active-model.auto" 2>/dev/null; }
model_is() { [ "$(active_model)" = "$1" ]; }

# ---------------------------------------------------------- the scenarios ---

# scenario N: whether it runs (E2E_ONLY picks one, and what it needs).
wants() {
    [ -z "$E2E_ONLY" ] && return 0
    [ "$1" = "$E2E_ONLY" ] && return 0
    case $1 in
    1) return 0 ;;                                     # everything needs the cluster
    2) case $E2E_ONLY in 3 | 6 | 8) return 0 ;; esac ;; # and these the replica
    esac
    return 1
}

s1_bootstrap() {
    local t rc=0 job st sysid mark rows
    t=$(now)
    start_patroni 1
    # Patroni exits when a custom bootstrap fails: no need to wait then
    wait_for 240 "node1 primary (bootstrap from Barman)" primary_or_gone 8008 patroni-node1
    if ! is_primary 8008; then
        result 1 bootstrap FAIL "node1 is not primary after $(elapsed "$t") s ($(log_since patroni-node1 0 | grep -E 'ERROR|failed attempt|exited with code' | tail -n 1 | cut -c25-))"
        return 1
    fi
    local secs; secs=$(elapsed "$t")
    job=$(jobs_into "$RUN/node1/data" | tail -n 1)
    st=$(op_status "$job")
    sysid=$(psql_at 5441 "SELECT system_identifier FROM pg_control_system()")
    mark=$(marker_on 5441 source)
    rows=$(psql_at 5441 "SELECT count(*) FROM e2e_rows")
    if [ -n "$job" ] && [ "$st" = DONE ] && [ "$sysid" = "$SRC_SYSID" ] && [ "$mark" = "$RUN_ID" ] && [ "$rows" = 200000 ]; then
        result 1 bootstrap PASS "primary in ${secs} s; restore $job $st; system identifier $sysid = source; marker row $mark; $rows rows"
    else
        result 1 bootstrap FAIL "restore '${job:-none}' ${st:-}; system identifier '${sysid}' (source $SRC_SYSID); marker '${mark}' (want $RUN_ID); rows '${rows}'"
        rc=1
    fi
    return $rc
}

# Between 1 and 2: Barman follows node1 (its model), and a backup of node1
# is what replicas restore from.
switch_to_node1_and_backup() {
    barman_cmd config-switch "$SERVER" "$SERVER-node1" >>"$LOGS/barman-setup.log" 2>&1 || return 1
    barman_cmd receive-wal --stop "$SERVER" >>"$LOGS/barman-setup.log" 2>&1
    as postgres "$PGBIN/pg_ctl" -D "$RUN/src/data" -m fast -w -t 60 stop >/dev/null 2>&1
    wait_for 60 "barman receive-wal streaming from node1" streaming_from 5441 || return 1
    psql_at 5441 "INSERT INTO e2e_marker VALUES ('node1', '$RUN_ID')" >/dev/null || return 1
    take_backup
}

s2_replica() {
    local t off job st mark mark1 log secs
    t=$(now)
    off=$(log_size patroni-node2)
    start_patroni 2
    if ! wait_for 240 "node2 replica" is_replica 8009 || ! wait_for 60 "node2 streaming from node1" streams node2 5441; then
        result 2 replica FAIL "node2 not a streaming replica after $(elapsed "$t") s ($(log_since patroni-node2 "$off" | grep -E 'ERROR|created using' | tail -n 1))"
        return 1
    fi
    secs=$(elapsed "$t")
    log=$(log_since patroni-node2 "$off")
    job=$(jobs_into "$RUN/node2/data" | tail -n 1)
    st=$(op_status "$job")
    mark=$(marker_on 5442 source); mark1=$(marker_on 5442 node1)
    if grep -q 'replica has been created using barman' <<<"$log" && ! grep -q 'created using basebackup' <<<"$log" &&
        [ "$st" = DONE ] && [ "$mark" = "$RUN_ID" ] && [ "$mark1" = "$RUN_ID" ]; then
        result 2 replica PASS "streaming in ${secs} s; Patroni: created using barman (no basebackup); restore $job $st; marker rows present"
    else
        result 2 replica FAIL "Patroni: '$(grep -E 'created using|Error creating replica' <<<"$log" | tail -n 1 | cut -c25-)'; restore '${job:-none}' ${st}; markers '$mark' '$mark1'"
        return 1
    fi
}

# switchover FROM-N TO-N: via Patroni's REST API; prints the seconds from
# Patroni's promotion log line to the .active-model.auto change, or fails.
switchover() {
    local from=$1 to=$2 off before line ts mt to_port=$(( 8007 + $2 )) from_port=$(( 8007 + $1 ))
    off=$(log_size "patroni-node$to")
    before=$(mtime "$BH/$SERVER/.active-model.auto")
    curl -sf -m 30 -XPOST -d "{\"leader\":\"node$from\",\"candidate\":\"node$to\"}" \
        "http://127.0.0.1:$from_port/switchover" >>"$LOGS/switchover.log" 2>&1 || { echo "switchover request refused"; return 1; }
    wait_for 60 "node$to primary" is_primary "$to_port" || { echo "node$to not primary"; return 1; }
    wait_for 30 "model $SERVER-node$to active" model_is "$SERVER-node$to" ||
        { echo "active model '$(active_model)' after 30 s, want $SERVER-node$to"; return 1; }
    mt=$(mtime "$BH/$SERVER/.active-model.auto")
    [ "$mt" != "$before" ] || { echo ".active-model.auto did not change"; return 1; }
    line=$(log_since "patroni-node$to" "$off" | grep 'promoted self to leader' | tail -n 1)
    [ -n "$line" ] || { echo "no promotion in node$to's Patroni log"; return 1; }
    ts=$(patroni_ts "$line")
    wait_for 90 "node$from replica again" is_replica "$from_port" || { echo "node$from did not come back as a replica"; return 1; }
    wait_for 60 "node$from streaming" streams "node$from" "$(( 5440 + to ))" || { echo "node$from not streaming"; return 1; }
    awk -v a="$ts" -v b="$mt" 'BEGIN { printf "%.2f", b - a }'
}

# config_switch_run: one config-switch by hand, as Patroni's callback would
# run it; prints "EXIT WALL-SECONDS".
config_switch_run() {
    local t rc
    t=$(now)
    as postgres timeout 300 $(tool_cmd http "$LOGS/tool-manual.log") config-switch on_role_change primary "$SCOPE" \
        --barman-server "$SERVER" --barman-model "$SERVER-node1" --switch-when promoted >/dev/null 2>&1
    rc=$?
    echo "$rc $(elapsed "$t")"
}
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

s3_switchover() {
    local http mtls i out walls="" codes=""
    if ! http=$(switchover 1 2); then result 3 switchover FAIL "node1 -> node2 (callback over HTTP): $http"; return 1; fi
    if ! mtls=$(switchover 2 1); then result 3 switchover FAIL "node2 -> node1 (callback over nginx mTLS): $mtls"; return 1; fi
    for i in 1 2 3; do
        out=$(config_switch_run)
        codes="$codes ${out% *}"; walls="$walls ${out#* }"
    done
    local wall; wall=$(tr ' ' '\n' <<<"$walls" | grep . | median)
    metric promo_to_model_http "$http"; metric promo_to_model_mtls "$mtls"; metric config_switch_wall "$wall"
    if [ "$codes" = " 0 0 0" ]; then
        result 3 switchover PASS "promotion -> model active: ${http} s (HTTP), ${mtls} s (nginx mTLS); config-switch by hand: exits$codes, ${wall} s wall (median of 3)"
    else
        result 3 switchover FAIL "promotion -> model ${http} s / ${mtls} s; config-switch by hand exits$codes"
        return 1
    fi
}

# check_case NAME WANT-EXIT WANT-TEXT ARGS...: runs check as postgres; on a
# mismatch prints why.
check_case() {
    local name=$1 want=$2 text=$3 out rc
    shift 3
    out=$(as postgres timeout 120 "$TOOL" "$@" 2>"$LOGS/check-$name.log")
    rc=$?
    printf '%s\n' "$out" >"$LOGS/check-$name.out"
    if [ "$rc" != "$want" ]; then echo "$name: exit $rc, want $want ($(grep -m1 FAIL <<<"$out")); "; return 1; fi
    if [ -n "$text" ] && ! grep -q "^FAIL.*$text" <<<"$out"; then echo "$name: no FAIL line naming '$text'; "; return 1; fi
    return 0
}

s4_check() {
    if [ "$E2E_TOOL" != rust ]; then result 4 check SKIP "the Python tool has no check"; return 0; fi
    local why="" node=(--barman-server "$SERVER" --barman-model "$SERVER-node1" --datadir "$RUN/node1/data" --ssh-command "ssh pg-node1")
    why+=$(check_case good-http 0 "" --api-url "$API" check "${node[@]}")
    why+=$(check_case good-mtls 0 "" --api-url "$NGINX" $TLS_OPTS check "${node[@]}")
    why+=$(check_case unknown-model 6 "nosuch-model" --api-url "$API" check --barman-server "$SERVER" --barman-model nosuch-model)
    why+=$(check_case other-cluster 6 "other-node1" --api-url "$API" check --barman-server "$SERVER" --barman-model other-node1)
    why+=$(check_case unknown-server 6 "nosuch" --api-url "$API" check --barman-server nosuch --barman-model "$SERVER-node1")
    why+=$(check_case no-client-cert 254 "" --api-url "$NGINX" --ca-file "$TLS/ca.pem" check --barman-server "$SERVER" --barman-model "$SERVER-node1")
    # what each run printed: its ok and FAIL lines
    local figs="" n
    for n in good-http good-mtls unknown-model other-cluster unknown-server no-client-cert; do
        figs="$figs $n:$(grep -c '^ok' "$LOGS/check-$n.out")ok/$(grep -c '^FAIL' "$LOGS/check-$n.out")FAIL"
    done
    if [ -z "$why" ]; then
        result 4 check PASS "exits good 0 (HTTP), 0 (mTLS); unknown model 6, other cluster's model 6, unknown server 6, no client certificate 254;$figs"
    else
        result 4 check FAIL "${why%; }"
        return 1
    fi
}

s5_wait() {
    if [ "$E2E_TOOL" != rust ]; then result 5 wait SKIP "the Python tool has no wait"; return 0; fi
    local id rc t
    id=$(curl -s -m 30 -H 'Content-Type: application/json' -d "{\"type\":\"config_switch\",\"model_name\":\"$SERVER-node1\"}" \
        "$API/servers/$SERVER/operations" | sed -n 's/.*"operation_id": *"\([^"]*\)".*/\1/p')
    [ -n "$id" ] || { result 5 wait FAIL "curl POST created no operation"; return 1; }
    t=$(now)
    as postgres timeout 120 "$TOOL" --api-url "$API" wait --barman-server "$SERVER" --operation-id "$id" \
        >/dev/null 2>"$LOGS/wait.log"
    rc=$?
    if [ "$rc" = 0 ] && [ "$(op_status "$id")" = DONE ]; then
        result 5 wait PASS "operation $id: wait exited 0 in $(elapsed "$t") s; Barman's output file says DONE"
    else
        result 5 wait FAIL "operation $id: wait exited $rc; Barman's files say $(op_status "$id")"
        return 1
    fi
}

# load clients: each polls the list and one operation as fast as it can.
start_load() {
    local id=$1 i
    for i in 1 2 3 4; do
        start "load-$i" root bash -c "while :; do
            curl -s -o /dev/null -w '%{http_code}\n' $API/servers/$SERVER/operations
            curl -s -o /dev/null -w '%{http_code}\n' $API/servers/$SERVER/operations/$id
        done"
    done
}

# recreate_node2: Patroni node2 stopped, its data directory removed, started again.
recreate_node2() {
    stop patroni-node2 60
    rm -rf "$RUN/node2/data"
    start_patroni 2
}

s6_load() {
    local off t id secs log job st i out codes="" walls="" total n404 ok
    start_api serve
    id=$(ls "$BH/$SERVER/output" | tail -n 1); id=${id%.json}
    start_load "$id"
    t=$(now)
    off=$(log_size patroni-node2)
    recreate_node2
    if ! wait_for 300 "node2 replica under load" is_replica 8009 || ! wait_for 60 "node2 streaming" streams node2 5441; then
        log=$(log_since patroni-node2 "$off")
        result 6 load FAIL "node2 not a streaming replica after $(elapsed "$t") s ($(grep -E 'created using|Error creating' <<<"$log" | tail -n 1 | cut -c25-))"
        for i in 1 2 3 4; do stop "load-$i" 5 group; done
        start_api gunicorn
        return 1
    fi
    secs=$(elapsed "$t")
    log=$(log_since patroni-node2 "$off")
    job=$(jobs_into "$RUN/node2/data" | tail -n 1); st=$(op_status "$job")
    local before; before=$(ls "$BH/$SERVER/output" | wc -l)
    for i in $(seq 10); do
        out=$(config_switch_run)
        codes="$codes ${out% *}"; walls="$walls ${out#* }"
    done
    for i in 1 2 3 4; do stop "load-$i" 5 group; done
    ok=$(( $(ls "$BH/$SERVER/output" | wc -l) - before ))
    total=$(cat "$LOGS"/load-*.log | wc -l); n404=$(cat "$LOGS"/load-*.log | grep -c '^404')
    local wall; wall=$(tr ' ' '\n' <<<"$walls" | grep . | median)
    metric config_switch_wall_load "$wall"
    start_api gunicorn
    if grep -q 'replica has been created using barman' <<<"$log" && ! grep -q 'created using basebackup' <<<"$log" &&
        [ "$st" = DONE ] && [ "$codes" = " 0 0 0 0 0 0 0 0 0 0" ] && [ "$ok" -ge 10 ]; then
        result 6 load PASS "pg-backup-api serve, 4 clients: $total GETs ($n404 answered 404); replica by barman in ${secs} s ($job $st); 10 config-switch exits$codes, $ok new output files, ${wall} s median wall"
    else
        result 6 load FAIL "$total GETs ($n404 404s); Patroni: '$(grep -E 'created using|Error creating' <<<"$log" | tail -n 1 | cut -c25-)'; restore ${job:-none} $st; config-switch exits$codes; $ok new output files"
        return 1
    fi
}

s7_zombie() {
    local before after new id rc t stuck="" named=1 followed="" err
    start_api zombie
    before=$(ls "$BH/$SERVER/jobs")
    t=$(now)
    # the tool's log file (opened by postgres) and its stderr (a traceback, say)
    err=$LOGS/zombie-tool.log
    as postgres timeout 300 $(tool_cmd http "$err") config-switch on_role_change primary "$SCOPE" \
        --barman-server "$SERVER" --barman-model "$SERVER-node1" --switch-when promoted >/dev/null 2>"$LOGS/zombie-tool.err"
    rc=$?
    cat "$LOGS/zombie-tool.err" >>"$LOGS/zombie-tool.all"; cat "$err" >>"$LOGS/zombie-tool.all" 2>/dev/null
    err=$LOGS/zombie-tool.all
    local secs; secs=$(elapsed "$t")
    after=$(ls "$BH/$SERVER/jobs")
    new=$(comm -13 <(echo "$before") <(echo "$after") | sed 's/\.json$//')
    for id in $new; do
        [ "$(op_status "$id")" = IN_PROGRESS ] && stuck="$stuck $id"
        grep -q "$id" "$err" || named=0
        grep -q "GET /servers/$SERVER/operations/$id " "$LOGS/api-access.log" && followed="$followed $id"
    done
    start_api gunicorn
    if [ "$rc" = 3 ] && [ -n "$stuck" ] && [ "$named" = 1 ] && [ -z "$followed" ]; then
        result 7 zombie PASS "config-switch exited 3 in ${secs} s; stuck jobs (IN_PROGRESS, no worker):$stuck, each named in the tool's log, none polled"
    else
        result 7 zombie FAIL "config-switch exited $rc (want 3) in ${secs} s; stuck jobs:${stuck:- none}; named in its log: $([ "$named" = 1 ] && echo yes || echo no); polled:${followed:- none}"
        return 1
    fi
}

# restores_into DIR: "RECOVERS RSYNCS JOBS": Barman's recover processes
# (a recover's own pool workers not counted), their rsyncs, and the jobs for
# DIR that have no output file yet.
restores_into() {
    local dir=$1 f j=0
    ps -eo pid=,ppid=,args= | awk -v d="$dir" '
        { pid = $1; ppid = $2; $1 = ""; $2 = ""; args[pid] = $0; parent[pid] = ppid }
        END {
            for (p in args) {
                a = args[p]
                if (index(a, d) == 0) continue
                if (a ~ / recover / && a ~ /bin\/barman/ && !(args[parent[p]] ~ / recover / && args[parent[p]] ~ /bin\/barman/)) r++
                if (a ~ /^ *(\/[^ ]*\/)?rsync / && a !~ /--server/) s++
            }
            printf "%d %d ", r, s
        }'
    for f in "$BH/$SERVER/jobs"/*.json; do
        grep -q "\"destination_directory\": *\"$dir\"" "$f" 2>/dev/null || continue
        [ -f "$BH/$SERVER/output/$(basename "$f")" ] || j=$((j + 1))
    done
    echo "$j"
}
rsyncing_into() { read -r _ s _ < <(restores_into "$1"); [ "$s" -gt 0 ]; }

# watch DIR: every 0.1 s, a line "TIME RECOVERS RSYNCS JOBS" (restores_into).
start_watch() {
    export -f restores_into
    export BH SERVER
    start watch root bash -c "while :; do echo \"\$(date +%s.%N) \$(restores_into '$1')\"; sleep 0.1; done"
}

# restart_seen OFFSET: after the restart, Patroni either runs the replica
# method again (the directory it removed was still empty) or finds the
# directory that the first restore keeps writing and waits for a reinitialize.
restart_seen() { log_since patroni-node2 "$1" | grep -qE 'trying to bootstrap from leader|consider doing reinitialize'; }
no_restore_into() { [ "$(restores_into "$1" | cut -d' ' -f3)" = 0 ]; }

s8_cancel() {
    local dir=$RUN/node2/data t before job1 new jobs off off2 log max_r max_s max_j ok=1 why="" how busy
    write_barman_conf "bandwidth_limit = 1500"
    before=$(jobs_into "$dir")
    : >"$LOGS/watch.log"
    start_watch "$dir"
    t=$(now)
    off=$(log_size patroni-node2)
    recreate_node2
    # the restore is writing: its rsync runs
    if ! wait_for 120 "a slow restore into node2 rsyncing" rsyncing_into "$dir"; then
        why="no restore into node2 started"; ok=0
    fi
    job1=$(comm -13 <(echo "$before") <(jobs_into "$dir") | head -n 1)
    stop patroni-node2 60
    write_barman_conf
    local stopped; stopped=$(elapsed "$t")
    off2=$(log_size patroni-node2)
    start_patroni 2
    wait_for 30 "Patroni node2 restarted and deciding" restart_seen "$off2"
    if log_since patroni-node2 "$off2" | grep -q 'consider doing reinitialize'; then
        # the data directory is the first restore's, still being written:
        # do what Patroni asks for (a replica created again, as after a removal)
        how="Patroni found the first restore's files and was told to reinitialize"
        curl -s -m 30 -XPOST -d '{"force": true}' http://127.0.0.1:8009/reinitialize >>"$LOGS/switchover.log" 2>&1
    else
        how="Patroni ran the replica method again by itself"
    fi
    if ! wait_for 300 "node2 replica after the restart" is_replica 8009 || ! wait_for 60 "node2 streaming" streams node2 5441; then
        why="$why; node2 not a streaming replica after $(elapsed "$t") s"; ok=0
    fi
    local secs; secs=$(elapsed "$t")
    busy=$(restores_into "$dir" | cut -d' ' -f3)
    wait_for 120 "every restore into node2 ended" no_restore_into "$dir" || { why="$why; a restore into node2 still runs"; ok=0; }
    stop watch 5 group
    log=$(log_since patroni-node2 "$off")
    new=$(comm -13 <(echo "$before") <(jobs_into "$dir"))
    jobs=""
    for j in $new; do jobs="$jobs $j:$(op_status "$j")"; done
    read -r max_r max_s max_j < <(awk '{ if ($2 > r) r = $2; if ($3 > s) s = $3; if ($4 > j) j = $4 } END { print r + 0, s + 0, j + 0 }' "$LOGS/watch.log")
    local samples; samples=$(wc -l <"$LOGS/watch.log")
    [ "$max_r" -le 1 ] && [ "$max_j" -le 1 ] || { why="$why; two restores at once into $dir (recover processes $max_r, jobs in progress $max_j)"; ok=0; }
    [ "$(marker_on 5442 source)" = "$RUN_ID" ] || { why="$why; no marker row on node2"; ok=0; }
    if grep -q 'created using basebackup' <<<"$log"; then why="$why; Patroni fell back to basebackup"; ok=0; fi
    local note=""
    [ "$busy" = 0 ] || note=" (WARNING: Patroni started node2's PostgreSQL while a restore into it was still running)"
    if [ "$ok" = 1 ]; then
        result 8 cancel PASS "Patroni stopped ${stopped} s into a slow restore ($job1), started again; $how; restores:$jobs; at most $max_r recover process, $max_j job in progress, $max_s rsync at once ($samples samples); node2 streams with the marker row, ${secs} s$note"
    else
        result 8 cancel FAIL "${why#; }; $how; restores:$jobs"
        return 1
    fi
}

# --------------------------------------------------------------- run them ---

# Scenarios 2-8 need the cluster of 1 (and the backup of node1); 3, 6 and 8
# need the replica of 2 as well.
NEED_CLUSTER=""
NEED_REPLICA=""
run_scenario() { # run_scenario N FUNCTION NAME
    local n=$1 fn=$2 name=$3 missing=""
    wants "$n" || return 0
    [ "$n" = 1 ] || missing=$NEED_CLUSTER
    case $n in 3 | 6 | 8) missing=${missing:-$NEED_REPLICA} ;; esac
    if [ -n "$missing" ]; then result "$n" "$name" FAIL "not run: $missing failed"; return 0; fi
    phase_start "scenario $n: $name"
    "$fn"
    local rc=$?
    phase_end
    return $rc
}

run_scenario 1 s1_bootstrap bootstrap || NEED_CLUSTER="scenario 1"
if [ -z "$NEED_CLUSTER" ] && [ "$E2E_ONLY" != 1 ]; then
    phase_start "Barman follows node1; a backup of node1"
    switch_to_node1_and_backup || NEED_CLUSTER="the backup of node1 (log: $LOGS/barman-setup.log)"
    phase_end
fi
run_scenario 2 s2_replica replica || NEED_REPLICA="scenario 2"
run_scenario 3 s3_switchover switchover
run_scenario 4 s4_check check
run_scenario 5 s5_wait wait
run_scenario 6 s6_load load
run_scenario 7 s7_zombie zombie
run_scenario 8 s8_cancel cancel

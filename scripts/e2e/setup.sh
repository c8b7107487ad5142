#!/bin/sh
# `make e2e` and `make e2e-matrix`, step one: install what the real stack
# needs, only what is missing, then nothing else. The suite itself is Python
# (tests/e2e/, run by pytest from the venv made here); see docs/e2e.md.
#
#   scripts/e2e/setup.sh BARMAN_VERSION... -- PATRONI_VERSION...
#
# Debian packages (services kept from starting by a policy-rc.d: the suite
# starts each one on its own port), then one venv per Barman version (with
# gunicorn and pg-backup-api from PG_BACKUP_API_SRC), one per Patroni version,
# and the suite's own (pytest), all under E2E_ROOT, readable by postgres and
# barman. A stamp in each venv rebuilds it when what it should hold changes.
# Every command has a time limit; a failure is one line naming the log.
set -eu
E2E_ROOT=${E2E_ROOT:-/var/lib/patroni_barman-e2e}
OUT=${E2E_OUT:-target/e2e}
SRC=${PG_BACKUP_API_SRC:?PG_BACKUP_API_SRC names the pg-backup-api release tarball}
PY=/usr/bin/python3
PYTEST_PINS="pytest==9.0.2 pytest-timeout==2.4.0"
mkdir -p "$OUT" "$E2E_ROOT"
chmod 755 "$E2E_ROOT"
OUT=$(cd "$OUT" && pwd)

fail() { echo "e2e setup: ERROR: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "make e2e runs as root (it installs packages and starts services as postgres and barman)"
[ -f "$SRC" ] || fail "pg-backup-api source not found: PG_BACKUP_API_SRC=$SRC"

barmans=""; patronis=""; side=b
for a in "$@"; do
    if [ "$a" = -- ]; then side=p; elif [ $side = b ]; then barmans="$barmans $a"; else patronis="$patronis $a"; fi
done

# ---- Debian packages
need=""
[ -x /usr/lib/postgresql/15/bin/initdb ] || need="$need postgresql-15"
command -v nginx >/dev/null || need="$need nginx"
command -v etcd >/dev/null || need="$need etcd-server"
[ -x /usr/sbin/sshd ] || need="$need openssh-server"
command -v ssh >/dev/null || need="$need openssh-client"
command -v rsync >/dev/null || need="$need rsync"
command -v curl >/dev/null || need="$need curl"
command -v openssl >/dev/null || need="$need openssl"
command -v ss >/dev/null || need="$need iproute2"
command -v ps >/dev/null || need="$need procps"
command -v unshare >/dev/null || need="$need util-linux"
$PY -c 'import ensurepip, venv' 2>/dev/null || need="$need python3-venv"
# psycopg2 (Barman's dependency) builds from source
command -v pg_config >/dev/null || need="$need libpq-dev"
command -v gcc >/dev/null || need="$need gcc"
[ -f /usr/include/python3.11/Python.h ] || need="$need python3-dev"
if [ -n "$need" ]; then
    echo "e2e setup: apt-get install$need"
    policy=/usr/sbin/policy-rc.d made=""
    if [ ! -e $policy ]; then printf '#!/bin/sh\nexit 101\n' >$policy; chmod 755 $policy; made=1; fi
    rc=0
    { timeout 300 apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq --no-install-recommends $need; } \
        >"$OUT/apt.log" 2>&1 || rc=$?
    [ -z "$made" ] || rm -f $policy
    [ $rc = 0 ] || fail "apt-get install$need failed (exit $rc): $(grep -E '^E:' "$OUT/apt.log" | head -n 1) (log: $OUT/apt.log)"
fi

# ---- venvs: make_venv DIR STAMP PIP-ARGS...
make_venv() {
    dir=$1 stamp=$2
    shift 2
    if [ -f "$dir/.e2e-stamp" ] && [ "$(cat "$dir/.e2e-stamp")" = "$stamp" ]; then return 0; fi
    log="$OUT/pip-$(basename "$dir").log"
    echo "e2e setup: creating $dir ($stamp)"
    rm -rf "$dir"
    rc=0
    { timeout 120 $PY -m venv "$dir" &&
        timeout 900 "$dir/bin/pip" install -q --disable-pip-version-check --timeout 60 "$@"; } >"$log" 2>&1 || rc=$?
    [ $rc = 0 ] || fail "pip install into $dir failed (exit $rc): $(grep -m1 ERROR "$log") (log: $log)"
    echo "$stamp" >"$dir/.e2e-stamp"
    chmod -R a+rX "$dir"
}

sum=$(sha256sum "$SRC" | cut -c1-16)
src_dir=$E2E_ROOT/src/pg-backup-api-$sum
if [ ! -f "$src_dir/.unpacked" ]; then
    rm -rf "$src_dir" && mkdir -p "$src_dir"
    tar xzf "$SRC" -C "$src_dir" || fail "cannot unpack $SRC"
    touch "$src_dir/.unpacked"
fi
setup_py=$(find "$src_dir" -maxdepth 3 -name setup.py -path '*pg_backup_api*' | head -n 1)
[ -n "$setup_py" ] || fail "no pg_backup_api/setup.py in $SRC"
pgba=$(dirname "$setup_py")

# The venvs are independent: build them side by side, then wait for all.
pids=""
for v in $barmans; do
    make_venv "$E2E_ROOT/venv-barman-$v" "barman==$v flask<3 gunicorn==23.0.0 pg-backup-api:$sum" \
        "barman==$v" 'flask<3' gunicorn==23.0.0 "$pgba" &
    pids="$pids $!"
done
for v in $patronis; do
    make_venv "$E2E_ROOT/venv-patroni-$v" "patroni[etcd]==$v psycopg2-binary" "patroni[etcd]==$v" psycopg2-binary &
    pids="$pids $!"
done
make_venv "$E2E_ROOT/venv-pytest" "$PYTEST_PINS" $PYTEST_PINS &
pids="$pids $!"
rc=0
for p in $pids; do wait "$p" || rc=1; done
[ $rc = 0 ] || exit 1
for v in $barmans; do
    timeout 60 "$E2E_ROOT/venv-barman-$v/bin/barman" --version >/dev/null 2>&1 || fail "Barman $v does not run"
    [ -x "$E2E_ROOT/venv-barman-$v/bin/pg-backup-api" ] || fail "pg-backup-api is not in venv-barman-$v"
done
for v in $patronis; do
    [ -x "$E2E_ROOT/venv-patroni-$v/bin/patroni_barman" ] || fail "Patroni $v has no patroni_barman"
done
echo "e2e setup: ready (Barman$barmans; Patroni$patronis; $PYTEST_PINS)"

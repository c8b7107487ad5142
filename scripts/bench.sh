#!/bin/sh
# Benchmarks patroni_barman against Patroni 4.1.5's Python patroni_barman, side by side, against
# one stub pg-backup-api. `make bench` builds the binaries first, then runs this.
# Usage: scripts/bench.sh BIN HTTP_BIN      (results also go to target/bench/results.md)
# This wrapper only prepares: the Python tool in a throwaway virtualenv (reused when it already
# holds the right version) and a tiny C launcher; scripts/bench.py does all the measuring.
set -eu
[ $# -eq 2 ] || { echo "usage: $0 BIN HTTP_BIN" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(realpath "$1")
http_bin=$(realpath "$2")
venv=$root/target/bench-venv
version=4.1.5

# Debian/Ubuntu ship venv's ensurepip in a separate package.
if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    sudo=$([ "$(id -u)" = 0 ] || echo sudo)
    $sudo apt-get update -qq && $sudo apt-get install -y -qq python3-venv
fi

# Reuse the venv only if it has the right Patroni and urllib3 imports (a half-done install from an
# interrupted run would not). patroni_barman needs no extras: its only third-party import is
# urllib3, which is a base requirement of patroni (the other base requirements come along too).
check="import importlib.metadata as m, urllib3, patroni.scripts.barman.cli
assert m.version('patroni') == '$version'"
if ! "$venv/bin/python" -c "$check" 2>/dev/null; then
    echo "bench: installing patroni==$version into $venv" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "patroni==$version"
    "$venv/bin/python" -c "$check"
fi

# Every measured process is started by this tiny launcher, so that its peak RSS is its own.
# Started from Python directly, a child's ru_maxrss can never be below the Python parent's RSS
# (~15 MiB): Linux folds the RSS of the memory a process had before execve (Python's, shared by
# vfork or copied by fork) into its maxrss. The launcher is static and a few pages big, so what
# its forked child carries into execve is negligible.
mkdir -p "$root/target/bench"
spawn=$root/target/bench/spawn
cat > "$spawn.c" <<'END_OF_C'
/* spawn PROG [ARG...]: runs PROG with stdin, stdout and stderr on /dev/null, reaps it with
   wait4 and prints "EXIT_CODE WALL_NS MAXRSS_KIB USER_US SYS_US" on stdout. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    struct timespec t0, t1;
    struct rusage ru;
    int status, null = open("/dev/null", O_RDWR);
    if (argc < 2 || null < 0) return 2;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(null, 0); dup2(null, 1); dup2(null, 2);
        execv(argv[1], argv + 1);
        _exit(127);
    }
    if (pid < 0 || wait4(pid, &status, 0, &ru) < 0) { perror("spawn"); return 2; }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%d %lld %ld %lld %lld\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
           (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec), (long)ru.ru_maxrss,
           ru.ru_utime.tv_sec * 1000000LL + ru.ru_utime.tv_usec,
           ru.ru_stime.tv_sec * 1000000LL + ru.ru_stime.tv_usec);
    return 0;
}
END_OF_C
# musl-gcc is there after `make toolchain`; a dynamic glibc build would do nearly as well.
musl-gcc -static -Os -o "$spawn" "$spawn.c" 2>/dev/null || cc -Os -o "$spawn" "$spawn.c"

exec python3 "$root/scripts/bench.py" --ours "$bin" --ours-http "$http_bin" --venv "$venv" \
    --stub "$root/scripts/stub_api.py" --spawn "$spawn" --out "$root/target/bench/results.md"

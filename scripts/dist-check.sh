#!/bin/bash
# `make dist-check`, the two tests of `make dist`, on the committed HEAD:
#  1. reproducible: `make dist` in two clones at different paths (and path
#     lengths) writes the same SHA256SUMS;
#  2. offline: the source archive, unpacked at a third path, builds with plain
#     `make` in an empty CARGO_HOME with CARGO_NET_OFFLINE=true (and, when
#     root, in a network namespace with no network at all), to the very bytes
#     of the binary in the x86_64 release archive.
# Each step prints its time. Work goes to target/dist-check.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
root=$(pwd)
work=$root/target/dist-check
rm -rf "$work"
mkdir -p "$work"
failed=0
step() { echo "dist-check: $*"; }

a=$work/a/patroni_barman
b=$work/second/clone/at/a/longer/path/pb
# Both at once: the two cores are only half busy during one build (LTO with
# one codegen unit links on one core).
start=$SECONDS
pids=()
for clone in "$a" "$b"; do
    git clone -q "$root" "$clone"
    (unset MAKEFLAGS MFLAGS MAKELEVEL; make -C "$clone" --no-print-directory dist) \
        > "$clone.log" 2>&1 &
    pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
[ $status = 0 ] || { cat "$a.log" "$b.log"; step "FAIL: make dist failed"; exit 1; }
step "make dist in two clones at once: $((SECONDS - start)) s (logs: $a.log, $b.log)"
step "commit $(git -C "$a" rev-parse --short HEAD)"
if cmp -s "$a/dist/SHA256SUMS" "$b/dist/SHA256SUMS"; then
    step "PASS: same SHA256SUMS from both clones:"
    cat "$a/dist/SHA256SUMS"
else
    step "FAIL: the two clones' SHA256SUMS differ:"
    diff "$a/dist/SHA256SUMS" "$b/dist/SHA256SUMS" || true
    failed=1
fi
if (cd "$a/dist" && sha256sum --quiet -c SHA256SUMS); then
    step "PASS: sha256sum -c SHA256SUMS"
else
    step "FAIL: the archives do not match their SHA256SUMS"
    failed=1
fi

version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$a/Cargo.toml" | head -n 1)
src=patroni_barman-$version-src
offline=$work/offline
mkdir -p "$offline/cargo-home" "$offline/release"
tar -C "$offline" -xzf "$a/dist/$src.tar.gz"
tar -C "$offline/release" -xzf "$a/dist/patroni_barman-$version-x86_64.tar.gz"
no_network=()
if [ "$(id -u)" = 0 ] && unshare --net true 2>/dev/null; then no_network=(unshare --net); fi
start=$SECONDS
(
    cd "$offline/$src"
    unset MAKEFLAGS MFLAGS MAKELEVEL CARGO_TARGET_DIR RUSTFLAGS CARGO_ENCODED_RUSTFLAGS
    CARGO_HOME=$offline/cargo-home CARGO_NET_OFFLINE=true "${no_network[@]}" make --no-print-directory
) > "$offline/build.log" 2>&1 || { cat "$offline/build.log"; exit 1; }
step "make in the unpacked source archive, offline ${no_network[*]:+(unshare --net) }in an empty CARGO_HOME: $((SECONDS - start)) s"
built=$offline/$src/target/x86_64-unknown-linux-musl/release/patroni_barman
if cmp -s "$built" "$offline/release/patroni_barman-$version-x86_64/patroni_barman"; then
    step "PASS: it built the same bytes as the x86_64 release archive's binary"
else
    step "FAIL: the offline build differs from the x86_64 release archive's binary"
    failed=1
fi
if [ -e "$offline/cargo-home/registry" ] || [ -e "$offline/cargo-home/git" ]; then
    step "FAIL: something was fetched into CARGO_HOME: $(ls -A "$offline/cargo-home" | tr '\n' ' ')"
    failed=1
fi
exit $failed

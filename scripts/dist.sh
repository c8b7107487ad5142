#!/bin/bash
# Writes dist/ (`make dist`):
#   patroni_barman-VERSION-src.tar.gz   the files git does not ignore, vendor/ (every
#                                       dependency, Windows-only crates left
#                                       out) and .cargo/config.toml, so that
#                                       `make` builds it with no network;
#   patroni_barman-VERSION-ARCH[-http-only].tar.gz   for x86_64 and aarch64:
#                                       the binary, README.md, LICENSE and the
#                                       man page when there is one;
#   SHA256SUMS                          for `sha256sum -c`.
# The four binaries are built from the source archive itself, unpacked into
# target/dist/build, offline (in an empty network namespace when root) with
# an empty CARGO_HOME: what the source archive builds is what ships.
# Reproducible: the Makefile maps every absolute path in the binaries
# (--remap-path-prefix); archives have sorted entries, owner 0, normalised
# modes, every mtime at SOURCE_DATE_EPOCH, and gzip stores no name or time.
#
# Usage: SOURCE_DATE_EPOCH=SECONDS scripts/dist.sh VERSION [MAN_PAGE]
set -euo pipefail
export LC_ALL=C TZ=UTC
version=$1
man_page=${2:-}
: "${SOURCE_DATE_EPOCH:?set it to the last commit time (make dist does)}"
cd "$(dirname "$0")/.."
root=$(pwd)
work=$root/target/dist
src=patroni_barman-$version-src
platforms=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl)

# One reproducible .tar.gz of DIR/NAME on stdout.
archive() {
    tar -C "$1" --sort=name --format=gnu --mtime="@$SOURCE_DATE_EPOCH" \
        --owner=0 --group=0 --numeric-owner --mode=u=rwX,go=rX -cf - "$2" | gzip -n -9
}

rm -rf "$work" dist
mkdir -p "$work/stage/$src/.cargo" "$work/build" "$work/cargo-home" "$work/pkg" dist
if [ -n "$(git status --porcelain)" ]; then
    echo "dist: WARNING: uncommitted changes; the archives hold the work tree, not HEAD" >&2
fi

# The source: each file of the work tree that git tracks or does not ignore.
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
    if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
done | tar --null -T - -cf - | tar -C "$work/stage/$src" -xf -

# Its dependencies. cargo vendor-filterer (crates.io, by coreos) is cargo
# vendor that keeps only the crates these targets build: the others
# (windows-sys and its 8 windows_* crates, wasi) become empty stubs that cargo
# accepts offline. 25 MB instead of 99 MB.
cargo vendor-filterer --versioned-dirs "${platforms[@]/#/--platform=}" \
    "$work/stage/$src/vendor" >/dev/null
cat >> "$work/stage/$src/.cargo/config.toml" <<'EOF'

# Added by `make dist`: dependencies come from vendor/, never the network.
[source.crates-io]
replace-with = "vendored-sources"

[source.vendored-sources]
directory = "vendor"

[net]
offline = true
EOF
archive "$work/stage" "$src" > "dist/$src.tar.gz"

# The binaries, from that archive, built where nothing of this machine's
# cargo or network can help.
tar -C "$work/build" -xzf "dist/$src.tar.gz"
no_network=()
if [ "$(id -u)" = 0 ] && unshare --net true 2>/dev/null; then no_network=(unshare --net); fi
(
    cd "$work/build/$src"
    unset MAKEFLAGS MFLAGS MAKELEVEL CARGO_TARGET_DIR RUSTFLAGS CARGO_ENCODED_RUSTFLAGS \
        CARGO_BUILD_RUSTFLAGS
    CARGO_HOME=$work/cargo-home CARGO_NET_OFFLINE=true "${no_network[@]}" \
        make --no-print-directory build-all
)

built=$work/build/$src/target
for arch in x86_64 aarch64; do
    for flavour in "" -http-only; do
        name=patroni_barman-$version-$arch$flavour
        if [ -z "$flavour" ]; then bin=$built/$arch-unknown-linux-musl/release/patroni_barman
        else bin=$built/http-only/$arch-unknown-linux-musl/release/patroni_barman; fi
        mkdir "$work/pkg/$name"
        cp "$bin" "$work/pkg/$name/patroni_barman"
        cp "$work/stage/$src/README.md" "$work/stage/$src/LICENSE" "$work/pkg/$name/"
        if [ -n "$man_page" ] && [ -f "$man_page" ]; then
            cp "$man_page" "$work/pkg/$name/patroni_barman.1"
        fi
        archive "$work/pkg" "$name" > "dist/$name.tar.gz"
    done
done

(cd dist && sha256sum -- *.tar.gz > SHA256SUMS)
echo "dist: SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH ($(date -u -d "@$SOURCE_DATE_EPOCH" '+%Y-%m-%d %H:%M:%S UTC'))"
ls -l dist
cat dist/SHA256SUMS

#!/usr/bin/env bash
# Runs the cargo-fuzz targets under fuzz/ (`make fuzz`): each for
# FUZZ_SECONDS (default 60) from the hand-made seeds in fuzz/seeds/TARGET
# (with the libFuzzer dictionary fuzz/dict/TARGET.dict),
# then shrinks the corpus it grew (fuzz/corpus/TARGET) with `cargo fuzz cmin`
# and prints, per target, the executions done and the corpus size.
#
#   FUZZ_SECONDS=600 scripts/fuzz.sh               every target, one after the other
#   FUZZ_TARGETS=command_line scripts/fuzz.sh      one target
#   FUZZ_SANITIZER=none scripts/fuzz.sh            no AddressSanitizer (faster)
#   FUZZ_CMIN=0 scripts/fuzz.sh                    keep the corpus as grown
#
# A crash stops the target's run: its input is in fuzz/artifacts/TARGET/, and
# `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run TARGET artifacts/TARGET/crash-...`
# replays it. The script then goes on with the next target and exits 1.
set -euo pipefail

cd "$(dirname "$0")/../fuzz"
seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-response command_line diagnose log_json}
sanitizer=${FUZZ_SANITIZER:-address}
cmin=${FUZZ_CMIN:-1}

# libFuzzer needs nightly-only -Z flags (sanitizer coverage); only the stable
# toolchain is installed, and RUSTC_BOOTSTRAP lets it accept them.
export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

# Files and bytes of a corpus directory.
size() { printf '%s files, %s bytes' "$(find "$1" -type f | wc -l)" "$(find "$1" -type f -printf '%s\n' | awk '{n += $1} END {print n + 0}')"; }

for target in $targets; do
    cargo fuzz build --sanitizer "$sanitizer" "$target"
done

status=0
summary=()
for target in $targets; do
    corpus=corpus/$target
    mkdir -p "$corpus" "artifacts/$target"
    cp seeds/"$target"/* "$corpus"/
    dict=()
    if [ -f "dict/$target.dict" ]; then dict=(-dict="dict/$target.dict"); fi
    log=$(mktemp)
    echo "== $target: ${seconds} s from $(size "$corpus")"
    # -print_final_stats gives the number of executions at the end.
    set +e
    cargo fuzz run --sanitizer "$sanitizer" "$target" "$corpus" -- \
        -max_total_time="$seconds" -print_final_stats=1 "${dict[@]}" 2>&1 |
        tee "$log" | grep --line-buffered -E $'\t(INITED|pulse|DONE) '
    result=${PIPESTATUS[0]}
    set -e
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    grown=$(size "$corpus")
    if [ "$result" -ne 0 ]; then
        # The panic message, and the file that holds the input.
        grep -A 3 -E 'panicked at|ERROR: libFuzzer|ERROR: AddressSanitizer' "$log" | head -n 12 || true
        grep -E 'Test unit written' "$log" || true
        status=1
        summary+=("$target: FAILED after ${execs:-?} executions (see above, fuzz/artifacts/$target/); corpus $grown")
        rm -f "$log"
        continue
    fi
    rm -f "$log"
    if [ "$cmin" = 1 ]; then
        cargo fuzz cmin --sanitizer "$sanitizer" "$target" "$corpus" >/dev/null 2>&1
        summary+=("$target: ${execs:-?} executions in ${seconds} s; corpus $grown, after cmin $(size "$corpus")")
    else
        summary+=("$target: ${execs:-?} executions in ${seconds} s; corpus $grown")
    fi
done

echo
printf '%s\n' "${summary[@]}"
exit "$status"

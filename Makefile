# patroni_barman: `make` builds the static binary, `make demo` runs it against
# the bundled stub API, `make test` runs every check. See README.md.

TARGET    := x86_64-unknown-linux-musl
BIN       := target/$(TARGET)/release/patroni_barman
# The HTTP-only build (no `tls` feature) gets its own target directory.
HTTP_DIR  := target/http-only
HTTP_BIN  := $(HTTP_DIR)/$(TARGET)/release/patroni_barman
PREFIX    ?= /usr/local
DESTDIR   ?=
# Size budgets in bytes (issue: HTTP-only <= 600 KiB, default <= 1.6 MiB).
HTTP_BUDGET    := 614400
DEFAULT_BUDGET := 1677721

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export CC_x86_64_unknown_linux_musl := musl-gcc

.PHONY: all build build-http-only toolchain test-tools test demo install size bench fuzz clean

all: build

build: toolchain
	cargo build --release --locked --target $(TARGET)

build-http-only: toolchain
	cargo build --release --locked --target $(TARGET) --no-default-features --target-dir $(HTTP_DIR)

# Installs the musl target and musl-gcc (ring builds C for the target) when missing.
toolchain:
	@rustup target list --installed | grep -qx $(TARGET) || rustup target add $(TARGET)
	@command -v musl-gcc >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq musl-tools; }
	@command -v openssl >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq openssl; }

# What `make test` needs besides the build: rustfmt and clippy (not in rustup's
# minimal profile) and python3 for the stub API.
test-tools:
	@cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
	@command -v python3 >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq python3; }

test: build build-http-only test-tools
	cargo fmt --all -- --check
	cargo clippy --locked --all-targets -- -D warnings
	cargo clippy --locked --all-targets --no-default-features -- -D warnings
	cargo test --locked
	cargo test --locked --no-default-features
	PATRONI_BARMAN_STATIC=$(BIN) cargo test --locked --test chroot -- --nocapture
	$(MAKE) --no-print-directory size

demo: build
	scripts/demo.sh $(BIN)

install: build
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/patroni_barman

size: build build-http-only
	@scripts/size.sh $(HTTP_BIN) $(HTTP_BUDGET) $(BIN) $(DEFAULT_BUDGET)

bench: build build-http-only
	scripts/bench.sh $(BIN) $(HTTP_BIN)

fuzz:
	scripts/fuzz.sh

clean:
	cargo clean

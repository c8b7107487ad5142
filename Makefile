# patroni_barman: `make` builds the static binary, `make demo` runs it against
# the bundled stub API, `make test` runs every check. See README.md.
#
# ARCH picks the architecture of `make`, `build-http-only`, `install` and
# `image`: x86_64 (the default) or aarch64, e.g. `make ARCH=aarch64`.
# `make test`, `make size` and `make dist` always cover both.

ARCHES    := x86_64 aarch64
ARCH      ?= x86_64
ifeq ($(filter $(ARCH),$(ARCHES)),)
$(error ARCH must be one of: $(ARCHES))
endif
TARGET    := $(ARCH)-unknown-linux-musl
# The HTTP-only build (no `tls` feature) gets its own target directory.
HTTP_DIR  := target/http-only
# $(call bin,ARCH) and $(call http_bin,ARCH): where the two builds land.
bin       = target/$(1)-unknown-linux-musl/release/patroni_barman
http_bin  = $(HTTP_DIR)/$(1)-unknown-linux-musl/release/patroni_barman
BIN       := $(call bin,$(ARCH))
HTTP_BIN  := $(call http_bin,$(ARCH))
VERSION   := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
PREFIX    ?= /usr/local
DESTDIR   ?=
# The man page: `make man` writes it; `dist` and `install` ship it.
MAN_PAGE  ?= target/patroni_barman.1
# Size budgets in bytes, the same on both architectures: default <= 1.65 MiB,
# HTTP-only <= 700 KiB. The HTTP-only budget was 600 KiB until check, wait,
# the option table and the own HTTP/1.1 client (minreq could abort) took the
# x86_64 build from 593 to 641 KiB, then 650 KiB (1.6 MiB by default) until
# the restore's progress and proof and the years-in-production work were
# given 50 KiB between them (README, "Size and speed"; CHANGELOG).
HTTP_BUDGET    := 716800
DEFAULT_BUDGET := 1730150

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Debian packages, installed only when missing. No recommended packages: for
# qemu-user that leaves out qemu-user-binfmt, so nothing changes machine-wide.
APT_INSTALL := $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends

# The linker, relocation model and C compilers of the musl targets are in
# .cargo/config.toml, so that cargo alone builds the same binaries. LINK is
# repeated here because the RUSTFLAGS below replace that file's rustflags.
LINK := -C relocation-model=static -C link-arg=--icf=all

# Reproducible binaries: panic locations name source files, so every absolute
# path of this machine is mapped to a fixed one: the cargo registry, the
# toolchain's rust-src (back to rustc's own /rustc/HASH) and this directory
# (the source archive's vendor/ is under it). The last match wins, so the
# project comes last. Given to the musl targets only, so that `cargo test` and
# clippy on the host keep their own build cache.
CARGO_DIR  := $(or $(CARGO_HOME),$(HOME)/.cargo)
SYSROOT    := $(shell rustc --print sysroot 2>/dev/null)
RUST_HASH  := $(shell rustc -vV 2>/dev/null | sed -n 's/^commit-hash: //p')
REMAP      := --remap-path-prefix=$(CARGO_DIR)=/cargo \
              --remap-path-prefix=$(SYSROOT)/lib/rustlib/src/rust=/rustc/$(RUST_HASH) \
              --remap-path-prefix=$(CURDIR)=.
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS := $(LINK) $(REMAP)
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_RUSTFLAGS := $(LINK) $(REMAP)

# The black-box suite against the aarch64 binaries: the test helpers start the
# binary named by PATRONI_BARMAN_BIN through PATRONI_BARMAN_RUNNER
# (tests/common/mod.rs). The binary is static: qemu needs no -L.
QEMU := qemu-aarch64
EMULATED = PATRONI_BARMAN_RUNNER=$(QEMU) PATRONI_BARMAN_BIN=$(CURDIR)/$(1)

# The container image (Containerfile): rootful podman with its storage under
# target/podman (vfs: works in any container), runc and cgroupfs (crun refuses
# a hybrid cgroup hierarchy), and explicit ulimits (podman's defaults exceed
# the hard limits of some sandboxes). Override PODMAN to use your own storage.
PODMAN    ?= podman --root $(CURDIR)/target/podman/root --runroot $(CURDIR)/target/podman/run \
             --storage-driver vfs --runtime runc --cgroup-manager cgroupfs
PODMAN_RUN := --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024
IMAGE     ?= localhost/patroni_barman:$(VERSION)-$(ARCH)
OCI_ARCH  := $(if $(filter aarch64,$(ARCH)),arm64,amd64)

# `make dist` and `make image` are stamped with the last commit's time. Not
# exported to every build: it would rebuild ring at each commit.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null)
# Vendors the source archive's dependencies without Windows-only crates.
VENDOR_FILTERER_VERSION := 0.5.18

.PHONY: all build build-http-only build-all toolchain test-tools test test-more test-aarch64 \
        demo install man man-check size bench fuzz dist dist-tools dist-check image image-tools \
        image-test clean

all: build

build: toolchain
	cargo build --release --locked --target $(TARGET)

build-http-only: toolchain
	cargo build --release --locked --target $(TARGET) --no-default-features --target-dir $(HTTP_DIR)

# All four binaries: default and HTTP-only, for both architectures.
build-all:
	$(MAKE) --no-print-directory ARCH=x86_64 build build-http-only
	$(MAKE) --no-print-directory ARCH=aarch64 build build-http-only

# Installs the target and its C compiler (ring builds C for the target) when
# missing; openssl makes the tests' throwaway certificates.
toolchain:
	@rustup target list --installed | grep -qx $(TARGET) || rustup target add $(TARGET)
	@command -v musl-gcc >/dev/null || { $(APT_INSTALL) musl-tools; }
	@command -v openssl >/dev/null || { $(APT_INSTALL) openssl; }
ifeq ($(ARCH),aarch64)
	@command -v clang >/dev/null || { $(APT_INSTALL) clang; }
endif

# What `make test` needs besides the build: rustfmt and clippy (not in rustup's
# minimal profile), python3 for the stub API.
test-tools:
	@cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
	@command -v python3 >/dev/null || { $(APT_INSTALL) python3; }

# `make test`: what a newcomer runs. It needs the Rust toolchain and what a
# static musl build needs (musl-tools), nothing else: the x86_64 builds, fmt,
# clippy and the unit tests of both builds, the black-box tests of the
# default build, the chroot test and the x86_64 size budgets. `make
# test-more` runs the rest.
test: test-tools
	$(MAKE) --no-print-directory ARCH=x86_64 build build-http-only
	cargo fmt --all -- --check
	cargo clippy --locked --all-targets -- -D warnings
	cargo clippy --locked --all-targets --no-default-features -- -D warnings
	cargo test --locked --lib --no-default-features
	cargo test --locked
	PATRONI_BARMAN_STATIC=$(call bin,x86_64) cargo test --locked --test chroot -- --nocapture
	@scripts/size.sh $(call http_bin,x86_64) $(HTTP_BUDGET) $(call bin,x86_64) $(DEFAULT_BUDGET)

# `make test-more`: the black-box tests of the HTTP-only build, the aarch64
# suite under qemu, the size budgets of all four binaries, the man
# page as man renders it, and the container image. It installs clang,
# qemu-user, man-db, groff and podman when missing. CI runs it after `make
# test`.
test-more: test-tools
	cargo test --locked --no-default-features --test '*'
	$(MAKE) --no-print-directory test-aarch64
	$(MAKE) --no-print-directory size
	$(MAKE) --no-print-directory man-check
	$(MAKE) --no-print-directory image-test

# The black-box tests (tests/*.rs) against both aarch64 binaries under qemu.
test-aarch64: test-tools
	@command -v $(QEMU) >/dev/null || { $(APT_INSTALL) qemu-user; }
	$(MAKE) --no-print-directory ARCH=aarch64 build build-http-only
	$(call EMULATED,$(call bin,aarch64)) cargo test --locked --test '*'
	$(call EMULATED,$(call http_bin,aarch64)) cargo test --locked --no-default-features --test '*'

demo: build
	scripts/demo.sh $(BIN)

# The man page, made from the option table like --help (src/cli/man.rs). It
# has no date, so that the archives that hold it stay reproducible.
man:
	@mkdir -p $(dir $(MAN_PAGE))
	cargo run --quiet --locked --example man > $(MAN_PAGE)

# `man -l` renders it without a warning (man-db and groff from Debian).
man-check: man
	@command -v man >/dev/null && command -v groff >/dev/null || { $(APT_INSTALL) man-db groff-base; }
	@warnings=$$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l $(MAN_PAGE) 2>&1 >/dev/null); \
	    if [ -n "$$warnings" ]; then echo "$$warnings"; exit 1; fi; \
	    echo "man page: $(MAN_PAGE) renders without warnings"

install: build man
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/patroni_barman
	@if [ -f $(MAN_PAGE) ]; then \
	    install -D -m 0644 $(MAN_PAGE) $(DESTDIR)$(PREFIX)/share/man/man1/patroni_barman.1; fi

size: build-all
	@scripts/size.sh \
	    $(call http_bin,x86_64) $(HTTP_BUDGET) $(call bin,x86_64) $(DEFAULT_BUDGET) \
	    $(call http_bin,aarch64) $(HTTP_BUDGET) $(call bin,aarch64) $(DEFAULT_BUDGET)

bench: build build-http-only
	scripts/bench.sh $(BIN) $(HTTP_BIN)
	scripts/bench-walk.sh

fuzz:
	scripts/fuzz.sh

# dist/: the source archive (with vendor/ and .cargo/config.toml), the four
# binaries built from it offline in an empty CARGO_HOME, one archive each, and
# SHA256SUMS. See scripts/dist.sh.
dist: dist-tools man
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) scripts/dist.sh $(VERSION) $(MAN_PAGE)

dist-tools:
	$(MAKE) --no-print-directory ARCH=x86_64 toolchain
	$(MAKE) --no-print-directory ARCH=aarch64 toolchain
	@command -v cargo-vendor-filterer >/dev/null || \
	    cargo install --locked cargo-vendor-filterer --version $(VENDOR_FILTERER_VERSION)

# Two clones of HEAD at different paths give the same SHA256SUMS; the source
# archive builds with `make` offline, to the same bytes. Slow: see .ci/run.
dist-check: dist-tools
	scripts/dist-check.sh

# The scratch image with the static binary (ARCH picks which), stamped with
# the last commit's time so that it is reproducible as well.
image: build image-tools
	rm -rf target/image && mkdir -p target/image
	cp $(BIN) target/image/patroni_barman
	$(PODMAN) build --quiet --platform linux/$(OCI_ARCH) $(if $(SOURCE_DATE_EPOCH),--timestamp $(SOURCE_DATE_EPOCH)) \
	    -f Containerfile -t $(IMAGE) target/image

image-tools:
	@command -v podman >/dev/null || { $(APT_INSTALL) podman; }
	@command -v runc >/dev/null || { $(APT_INSTALL) runc; }

# `make test-more` runs --help in the x86_64 image; rootful podman needs root.
image-test:
	@if [ "$$(id -u)" != 0 ]; then echo "SKIPPED image test: rootful podman needs root"; else \
	    $(MAKE) --no-print-directory ARCH=x86_64 image && \
	    $(PODMAN) run $(PODMAN_RUN) localhost/patroni_barman:$(VERSION)-x86_64 --help > target/image/help.txt && \
	    grep -q '^patroni_barman' target/image/help.txt && \
	    echo "image test: --help ran in localhost/patroni_barman:$(VERSION)-x86_64 (FROM scratch)"; fi

# target/ holds the builds, target/dist (dist's work), target/podman (images).
clean:
	cargo clean
	rm -rf dist

# `make e2e`: the real stack on 127.0.0.1 (PostgreSQL 15, Barman with
# pg-backup-api 2.2.0 under gunicorn and `serve`, nginx mTLS, etcd, two
# Patroni nodes, sshd) and its scenarios as pytest tests (tests/e2e/), root
# only. scripts/e2e/setup.sh installs what is missing (Debian packages, one
# venv per Barman and Patroni version, pytest). One combination per run:
# E2E_PATRONI and E2E_BARMAN (default 4.1.5 and 3.19.1). E2E_ONLY=N (or a
# name) runs one scenario and what it needs; E2E_ONLY=longlist the 30,000-job
# scenario alone (the default run ends with it). E2E_TOOL=python runs Patroni's
# own patroni_barman; E2E_BIN names another binary under test (no build
# then); E2E_TIMEOUT_MULTIPLIER scales every deadline. `make e2e-matrix`: the
# older combinations, both tools. See docs/e2e.md.
E2E_ONLY ?=
E2E_TOOL ?= rust
E2E_BIN  ?=
E2E_PATRONI ?= 4.1.5
E2E_BARMAN  ?= 3.19.1
E2E_TIMEOUT_MULTIPLIER ?= 1
PG_BACKUP_API_SRC ?= $(abspath $(CURDIR)/../shared/vendor/pg-backup-api-2.2.0.tar.gz)
E2E_ENV = E2E_BIN=$(or $(E2E_BIN),$(CURDIR)/$(call bin,x86_64)) E2E_TIMEOUT_MULTIPLIER=$(E2E_TIMEOUT_MULTIPLIER) \
          PG_BACKUP_API_SRC=$(PG_BACKUP_API_SRC)

.PHONY: e2e e2e-matrix
e2e: $(if $(or $(E2E_BIN),$(filter python,$(E2E_TOOL))),,build)
	$(E2E_ENV) E2E_ONLY=$(E2E_ONLY) E2E_TOOL=$(E2E_TOOL) E2E_PATRONI=$(E2E_PATRONI) E2E_BARMAN=$(E2E_BARMAN) \
	    scripts/e2e/run.sh

e2e-matrix: $(if $(E2E_BIN),,build)
	$(E2E_ENV) scripts/e2e/matrix.sh

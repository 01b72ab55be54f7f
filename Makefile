# photofinish — plain GNU Make with pkg-config.
#   make            build photofinishd and photofinish into $(BUILD)/
#   make deps       install what is missing (Debian packages, npm packages)
#   make test       unit + integration + deploy + gallery + console tests, with a summary line
#   make asan       the same tests on an AddressSanitizer + UBSan build
#   make lint       clang-format check, cppcheck, banned calls
#   make bench      benchmarks; writes docs/benchmarks.md
#   make soak       race-day soak on the local stack; writes its section of docs/benchmarks.md
#   make fuzz       libFuzzer targets, FUZZ_SECONDS each
#   make demo       the whole product locally
#   make install    PREFIX=/usr/local DESTDIR=
#   make build-deps only what building photofinish needs (no test tools)
#   make images     the photofinishd and gallery container images (docker or podman)
#   make test-images  those images against the local AWS stack

PKGS := libevent libevent_pthreads libcurl openssl vips zbar jansson libuv expat
PREFIX ?= /usr/local
DESTDIR ?=
SANITIZE ?=
BUILD ?= build$(if $(SANITIZE),-san)
FUZZ_SECONDS ?= 60

CC ?= cc
WARN := -Wall -Wextra -Werror -Wmissing-prototypes -Wno-unused-parameter
CPPFLAGS += -Iinclude -Isrc -D_GNU_SOURCE
CFLAGS ?= -O2 -g
override CFLAGS += -std=c11 $(WARN) -pthread $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -pthread
ifneq ($(SANITIZE),)
override CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
override LDFLAGS += -fsanitize=$(SANITIZE)
endif

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
CPPFLAGS += -DPF_VERSION=\"$(VERSION)\"

DAEMON_MAIN := src/main.c
CLI_MAIN := src/cli.c
LIB_SRC := $(filter-out $(DAEMON_MAIN) $(CLI_MAIN),$(wildcard src/*.c src/*/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(wildcard test/unit/test_*.c)
UNIT_SUPPORT := $(filter-out $(UNIT_SRC),$(wildcard test/unit/*.c))
UNIT_BIN := $(UNIT_SRC:test/unit/%.c=$(BUILD)/test/%)
TOOL_SRC := $(wildcard test/tools/*.c)
TOOL_BIN := $(TOOL_SRC:test/tools/%.c=$(BUILD)/tools/%)

.PHONY: all deps test unit integration asan lint format clean install bench soak fuzz demo check-tools

all: $(BUILD)/photofinishd $(BUILD)/photofinish $(TOOL_BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libphotofinish.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/photofinishd: $(BUILD)/src/main.o $(BUILD)/libphotofinish.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/photofinish: $(BUILD)/src/cli.o $(BUILD)/libphotofinish.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/test/%: test/unit/%.c $(UNIT_SUPPORT) $(BUILD)/libphotofinish.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itest/unit $(CFLAGS) -Wno-missing-prototypes $(LDFLAGS) -o $@ $< \
		$(UNIT_SUPPORT) $(BUILD)/libphotofinish.a $(LDLIBS) $(shell pkg-config --libs cmocka)

# Small C drivers the integration tests run against the library.
$(BUILD)/tools/%: test/tools/%.c $(BUILD)/libphotofinish.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-missing-prototypes $(LDFLAGS) -o $@ $< \
		$(BUILD)/libphotofinish.a $(LDLIBS)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

deps:
	@scripts/deps

.PHONY: build-deps images test-images
build-deps:
	@scripts/build-deps build

images:
	@scripts/images

test-images:
	@test/containers/run

# Every suite runs even when an earlier one fails; test/run prints the summary.
# scripts/deps first: quiet and quick when everything is present, and a fresh
# clone gets its npm packages from the lock files.
test: all $(UNIT_BIN)
	@scripts/deps
	@BUILD=$(BUILD) test/run

unit: $(UNIT_BIN)
	@BUILD=$(BUILD) test/run unit

asan:
	$(MAKE) SANITIZE=address,undefined CFLAGS="-O1 -g" test

bench: all
	@BUILD=$(BUILD) bench/run

# SOAK_ARGS, e.g. --only burst,api --photos 300 (see test/soak/soak.mjs).
soak: all
	@scripts/deps >/dev/null
	@PHOTOFINISH_BIN_DIR=$(abspath $(BUILD)) node test/soak/soak.mjs --docs $(SOAK_ARGS)

fuzz:
	@FUZZ_SECONDS=$(FUZZ_SECONDS) test/fuzz/run

demo:
	@scripts/deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) scripts/demo

lint:
	@scripts/lint

format:
	clang-format -i $(wildcard src/*.c src/*/*.c src/*/*.h include/photofinish/*.h include/photofinish/*/*.h test/unit/*.c test/unit/*.h test/fuzz/*.c)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BUILD)/photofinishd $(BUILD)/photofinish $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf build build-san build-fuzz test-results

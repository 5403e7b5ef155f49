# gong - build, test, run, bench, install.
#
#   make            bin/gongd, bin/gong, bin/gong-genroster (release build)
#   make run        install what is missing, build, start gongd on the demo
#   make test       install what is missing, sanitizer build, every unit and
#                   integration test, then the daemon under valgrind
#   make SAN=1      build with AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench | install | clean | check-headers | fuzz | memcheck
#
# Every library comes through pkg-config, except nng and libcsv, which ship
# no .pc file in Debian (linked with -lnng / -lcsv).

PREFIX	?= /usr/local
DESTDIR	?=
SAN	?= 0
CC	?= cc

PKGS	:= libxml-2.0 sqlite3 libcurl libmicrohttpd jansson yaml-0.1 \
	   libsodium xmlsec1-openssl libmosquitto
EXTRA_LIBS := -lnng -lcsv -lpthread -lm

ifeq ($(SAN),1)
VARIANT	:= san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	    -fno-omit-frame-pointer
OPT	:= -O1 -g
else
VARIANT	:= rel
SANFLAGS :=
OPT	:= -O2 -g
endif

B	:= build/$(VARIANT)
ifeq ($(VARIANT),rel)
BIN	:= bin
else
BIN	:= $(B)/bin
endif

WARN	:= -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wformat=2 -Wvla
ifeq ($(CI),true)
WARN	+= -Werror
endif
HARDEN	:= -D_FORTIFY_SOURCE=2 -fstack-protector-strong
ifeq ($(SAN),1)
HARDEN	:= -fstack-protector-strong
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

GONG_VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)
DATADIR	:= $(PREFIX)/share/gong

CPPFLAGS += -I. -D_GNU_SOURCE -DGONG_VERSION='"$(GONG_VERSION)"' \
	    -DGONG_DEMO_DIR='"$(abspath config/demo)"' \
	    -DGONG_TEMPLATES_DIR='"$(abspath templates/default)"' \
	    -DGONG_CONSOLE_DIR='"$(abspath console)"' \
	    -DGONG_DATADIR='"$(DATADIR)"'
CFLAGS	+= $(OPT) $(WARN) $(HARDEN) $(SANFLAGS) $(PKG_CFLAGS) -MMD -MP
LDFLAGS	+= $(SANFLAGS)
LDLIBS	+= $(PKG_LIBS) $(EXTRA_LIBS)

# Library sources: every .c of the module directories except entry points
# (*_main.c) and the CLI's own directory.
MODDIRS	:= engine cap config channels templates
LIB_SRC	:= $(filter-out %_main.c engine/cli/%.c, \
	     $(foreach d,$(MODDIRS),$(wildcard $(d)/*.c)))
CLI_SRC	:= $(wildcard engine/cli/*.c)
MOCK_SRC := $(wildcard tests/mocks/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)

LIB_OBJ	:= $(LIB_SRC:%.c=$(B)/obj/%.o)
CLI_OBJ	:= $(CLI_SRC:%.c=$(B)/obj/%.o)
MOCK_OBJ := $(MOCK_SRC:%.c=$(B)/obj/%.o)
LIBGONG	:= $(B)/libgong.a
LIBMOCK	:= $(B)/libmocks.a

PROGS	:= $(BIN)/gongd $(BIN)/gong $(BIN)/gong-genroster
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

comma	:= ,
# Per-test wrapped symbols: WRAP_test_foo = curl_easy_perform time
-include tests/unit/wrap.mk

.PHONY: all deps run test unit-tests tests memcheck bench install clean \
	check-headers fuzz demo-data
.DEFAULT_GOAL := all

all: $(PROGS)

deps:
	@./ops/install-deps.sh

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIBGONG): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(LIBMOCK): $(MOCK_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^ $(if $(MOCK_OBJ),,)

$(BIN)/gongd: $(B)/obj/engine/gongd_main.o $(LIBGONG)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/gong: $(CLI_OBJ) $(LIBGONG)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/gong-genroster: $(B)/obj/config/genroster_main.o $(LIBGONG)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/%: $(B)/obj/tests/unit/%.o $(LIBMOCK) $(LIBGONG)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $(addprefix -Wl$(comma)--wrap=,$(WRAP_$*)) -o $@ \
	    $< $(LIBMOCK) $(LIBGONG) $(LDLIBS) $(shell pkg-config --libs cmocka)

tests: $(PROGS) $(UNIT_BINS)

# The whole suite: the README's second command, and what .ci/run runs.
test: deps
	@./ops/run-tests.sh

# Unit tests only, in the current variant.
unit-tests: tests
	@./ops/run-tests.sh --unit-only --variant $(VARIANT)

memcheck: deps
	@./ops/run-tests.sh --memcheck-only

run: deps all
	./bin/gongd $(GONGD_ARGS)

bench: deps all $(B)/bench/cap_bench $(B)/bench/plan_bench \
	    $(B)/bench/anslink_tokens $(B)/bench/loadgen $(B)/bench/curl_sink
	@./ops/install-deps.sh --bench
	@./ops/bench/run.sh

# CAP throughput benchmark (ops/bench/bench_cap.sh runs it).
$(B)/bench/cap_bench: ops/bench/cap_bench.c $(LIBGONG)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBGONG) $(LDLIBS)

# Plan + persist benchmark (ops/bench/bench_plan.sh runs it).
$(B)/bench/plan_bench: ops/bench/plan_bench.c $(LIBGONG)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBGONG) $(LDLIBS)

# Answer benchmark helpers (ops/bench/bench_answers.sh runs them): link
# tokens made by the engine's anslink_make, and a load generator that
# sends a fixed list of requests once each.
$(B)/bench/anslink_tokens: ops/bench/anslink_tokens.c $(LIBGONG)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBGONG) $(LDLIBS)

$(B)/bench/loadgen: ops/bench/loadgen.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $<

# libcurl alone against the dispatch benchmark's sink
# (ops/bench/bench_dispatch.sh runs it).
$(B)/bench/curl_sink: ops/bench/curl_sink.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< -lcurl -lpthread

demo-data: $(BIN)/gong-genroster
	./ops/make-demo.sh $(BIN)/gong-genroster

check-headers:
	@set -e; for h in $$(find engine cap config channels templates \
	    -name '*.h' ! -name '*_int.h'); do \
		printf '#include "%s"\n#include "%s"\n' $$h $$h | \
		$(CC) $(CPPFLAGS) $(WARN) -x c -fsyntax-only - || \
		{ echo "check-headers: $$h is not self-contained"; exit 1; }; \
	done; echo "check-headers: all public headers are self-contained"

FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=build/fuzz/obj/%.o)
FUZZ_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -g -O1

build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(CPPFLAGS) -std=c11 $(PKG_CFLAGS) $(FUZZ_FLAGS) -c -o $@ $<

build/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_OBJ)
	@mkdir -p $(dir $@)
	clang $(CPPFLAGS) -std=c11 $(PKG_CFLAGS) -g -O1 \
	    -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS)

fuzz: deps $(FUZZ_BINS)
	@./ops/run-fuzz.sh $(FUZZ_TIME)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(DATADIR)/demo \
	    $(DESTDIR)$(DATADIR)/config
	install -m 0755 $(PROGS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 config/demo/*.csv $(DESTDIR)$(DATADIR)/demo/
	install -m 0644 config/gong.example.yaml $(DESTDIR)$(DATADIR)/config/
	cd templates/default && find . -type d -exec install -d \
	    '$(abspath $(DESTDIR))$(DATADIR)/templates/{}' ';' && \
	    find . -type f -name '*.tpl' -exec install -m 0644 {} \
	    '$(abspath $(DESTDIR))$(DATADIR)/templates/{}' ';'
	cd console && find . -type d -exec install -d \
	    '$(abspath $(DESTDIR))$(DATADIR)/console/{}' ';' && \
	    find . -type f \( -name '*.html' -o -name '*.js' -o \
	    -name '*.css' -o -name '*.json' -o -name '*.svg' \) -exec \
	    install -m 0644 {} '$(abspath $(DESTDIR))$(DATADIR)/console/{}' ';'
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system
	install -m 0644 ops/gongd.service \
	    $(DESTDIR)$(PREFIX)/lib/systemd/system/gongd.service

clean:
	rm -rf build bin

# The programs' own objects too: a header change must rebuild them (a
# stale gongd_main.o read struct cfg with an old layout).
-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(MOCK_OBJ:.o=.d) \
	 $(UNIT_SRC:tests/unit/%.c=$(B)/obj/tests/unit/%.d) \
	 $(B)/obj/engine/gongd_main.d $(B)/obj/config/genroster_main.d

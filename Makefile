# tcpproxy: a preforking TCP proxy.  See README.md.

VERSION = 0.1.0

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
# systemd reads units from /usr/local/lib/systemd/system as well as from
# /usr/lib/systemd/system, so the default follows PREFIX.
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
DESTDIR ?=

CC ?= cc
CFLAGS ?= -O2 -g
WARNFLAGS = -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes \
	-Wmissing-prototypes -Wpointer-arith -Wcast-qual
ALL_CFLAGS = -std=c11 $(WARNFLAGS) $(CFLAGS)
# Bind every symbol at start-up: the master resolves them once, and each
# forked child runs without lazy binding and without dirtying those pages.
ALL_LDFLAGS = -Wl,-z,now -Wl,-z,relro $(LDFLAGS)
ALL_CPPFLAGS = -D_GNU_SOURCE -DTCPPROXY_VERSION='"$(VERSION)"' -Isrc $(CPPFLAGS)

SRCS = src/main.c src/cli.c src/cli_opts.c src/cli_shield.c src/acl.c src/srclim.c \
	src/dest.c src/priv.c src/listen.c src/activate.c \
	src/sig.c src/pool.c src/pool_slots.c src/pool_policy.c \
	src/pool_report.c src/spawn.c src/child.c src/pair.c src/end.c \
	src/relay.c src/relay_path.c src/relay_io.c src/sandbox.c src/proxyproto.c src/proxyhdr.c \
	src/upstream.c src/netio.c \
	src/netio_addr.c src/log.c \
	src/util.c \
	src/scoreboard.c src/status.c src/notify.c src/title.c
# Objects and their dependency files go to a directory of their own.
OBJDIR = src/obj
OBJS = $(SRCS:src/%.c=$(OBJDIR)/%.o)

PROGS_SRC = $(filter-out tests/progs/failsend.c,$(wildcard tests/progs/*.c))
PROGS = $(PROGS_SRC:.c=) tests/progs/failsend.so

BIN = src/tcpproxy

.PHONY: all progs unit unit-bins check check-deps clean install uninstall dist \
	asan ubsan valgrind fuzz fuzz-bins bench bench-quick soak reliability fuzz-deps

all: $(BIN)

$(BIN): $(OBJS)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(OBJS)

$(OBJDIR)/%.o: src/%.c | $(OBJDIR)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(OBJDIR):
	mkdir -p $@

-include $(OBJS:.o=.d)

# Helper programs for the tests: one file each, no shared code.
tests/progs/%: tests/progs/%.c
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $<

# An LD_PRELOAD library, not a program.
tests/progs/failsend.so: tests/progs/failsend.c
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -shared -fPIC -o $@ $<

# It writes a scoreboard of its own: the layout is the header's.
tests/progs/fakeboard: src/scoreboard.h

progs: $(PROGS)

# C unit tests of the pure decision code: no sockets, no clock.
UNITS_C = tests/unit/relay_test tests/unit/policy_test tests/unit/sig_test \
	tests/unit/acl_test tests/unit/srclim_test tests/unit/sandbox_test \
	tests/unit/proxyproto_test tests/unit/dest_test tests/unit/path_test

tests/unit/relay_test: tests/unit/relay_test.c tests/unit/relay_check.h \
	    src/relay.c src/relay.h src/end.h
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -o $@ tests/unit/relay_test.c src/relay.c

tests/unit/policy_test: tests/unit/policy_test.c src/pool_policy.c \
	    src/pool_policy.h
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -o $@ tests/unit/policy_test.c \
		src/pool_policy.c

tests/unit/sig_test: tests/unit/sig_test.c src/sig.c src/sig.h src/util.c
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -o $@ tests/unit/sig_test.c \
		src/sig.c src/util.c

tests/unit/acl_test: tests/unit/acl_test.c src/acl.c src/acl.h
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -o $@ tests/unit/acl_test.c src/acl.c

tests/unit/srclim_test: tests/unit/srclim_test.c src/srclim.c src/srclim.h
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -o $@ tests/unit/srclim_test.c \
		src/srclim.c

tests/unit/sandbox_test: tests/unit/sandbox_test.c src/sandbox.c \
	    src/sandbox.h
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -o $@ tests/unit/sandbox_test.c \
		src/sandbox.c

tests/unit/proxyproto_test: tests/unit/proxyproto_test.c src/proxyproto.c \
	    src/proxyproto.h
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -o $@ tests/unit/proxyproto_test.c \
		src/proxyproto.c

tests/unit/path_test: tests/unit/path_test.c src/relay_path.c \
	    src/relay_path.h src/relay.c src/relay.h
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -o $@ tests/unit/path_test.c \
		src/relay_path.c src/relay.c

tests/unit/dest_test: tests/unit/dest_test.c src/dest.c src/dest.h
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -o $@ tests/unit/dest_test.c src/dest.c

unit-bins: $(UNITS_C)

unit: $(UNITS_C)
	for t in $(UNITS_C); do $$t || exit 1; done

# The README's test command: installs what the tests need when missing,
# then runs the unit tests and the whole bats suite against $(BIN) with
# its default data path, then again the files that move data (tagged
# "# bats file_tags=data") with the portable copy path forced.
check: all progs unit
	tests/deps.sh
	TCPPROXY=$(CURDIR)/$(BIN) bats $(BATSFLAGS) tests
	TCPPROXY_BIN=$(CURDIR)/$(BIN) TCPPROXY=$(CURDIR)/tests/lib/copy-path.sh \
		bats $(BATSFLAGS) --filter-tags data tests
	TCPPROXY_BIN=$(CURDIR)/$(BIN) TCPPROXY=$(CURDIR)/tests/lib/splice-path.sh \
		bats $(BATSFLAGS) --filter-tags data tests

# Sanitizer builds: separate binaries (the normal build is left alone),
# run through the same bats suite.
# Their runtimes make system calls of their own: no sandbox (sandbox.c).
SAN_ASAN = -fsanitize=address,undefined -fno-omit-frame-pointer \
	-DTCPPROXY_SANITIZED
SAN_UBSAN = -fsanitize=undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer -DTCPPROXY_SANITIZED

src/tcpproxy-asan: $(SRCS) $(wildcard src/*.h)
	$(CC) $(ALL_CPPFLAGS) -std=c11 $(WARNFLAGS) -O1 -g $(SAN_ASAN) \
		-o $@ $(SRCS)

src/tcpproxy-ubsan: $(SRCS) $(wildcard src/*.h)
	$(CC) $(ALL_CPPFLAGS) -std=c11 $(WARNFLAGS) -O1 -g $(SAN_UBSAN) \
		-o $@ $(SRCS)

asan: src/tcpproxy-asan progs unit
	tests/deps.sh
	TCPPROXY=$(CURDIR)/src/tcpproxy-asan bats $(BATSFLAGS) tests
	TCPPROXY_BIN=$(CURDIR)/src/tcpproxy-asan \
		TCPPROXY=$(CURDIR)/tests/lib/copy-path.sh \
		bats $(BATSFLAGS) --filter-tags data tests

ubsan: src/tcpproxy-ubsan progs unit
	tests/deps.sh
	TCPPROXY=$(CURDIR)/src/tcpproxy-ubsan bats $(BATSFLAGS) tests

# Valgrind's memcheck: a binary of its own, unsanitized, -O1 so that
# reports name the right lines, without the sandbox (valgrind makes calls
# of its own) and with plain fork() (spawn.c).  A core of the suite runs
# it through tests/lib/valgrind.sh, every child traced, one report per
# process in VGLOGS; then valgrind-check.sh fails on any memcheck error
# or definite or indirect leak in them, whatever bats said.  The proxy
# runs 20-50 times slower there and ps(1) shows valgrind's command line:
# the few tests that time it closely or read its process titles skip
# themselves (under_valgrind, tests/lib/common.bash).
VG_CFLAGS = -O1 -g -DTCPPROXY_SANITIZED -DTCPPROXY_VALGRIND
VGLOGS = tests/valgrind-logs
VG_TESTS = tests/20-forwarding.bats tests/30-relay.bats \
	tests/70-pair-log.bats tests/73-signals-drain.bats \
	tests/82-proxy-protocol.bats tests/85-reuse.bats

src/tcpproxy-vg: $(SRCS) $(wildcard src/*.h)
	$(CC) $(ALL_CPPFLAGS) -std=c11 $(WARNFLAGS) $(VG_CFLAGS) -o $@ $(SRCS)

valgrind: src/tcpproxy-vg progs
	tests/deps.sh valgrind
	@command -v valgrind >/dev/null || \
		{ echo "make valgrind: valgrind is not installed" >&2; exit 1; }
	rm -rf $(VGLOGS)
	mkdir -p $(VGLOGS)
	rc=0; \
	TCPPROXY_BIN=$(CURDIR)/src/tcpproxy-vg \
		TCPPROXY_VGLOGS=$(CURDIR)/$(VGLOGS) \
		TCPPROXY=$(CURDIR)/tests/lib/valgrind.sh \
		bats $(BATSFLAGS) $(VG_TESTS) || rc=1; \
	tests/lib/valgrind-check.sh $(VGLOGS) || rc=1; \
	exit $$rc

# libFuzzer targets (clang), one per parser or state machine that takes
# outside input (tests/fuzz/README).  "make fuzz" runs each for FUZZ_SECS
# seconds from its seed corpus in tests/fuzz/corpus; what a run finds
# new stays out of the tree.
FUZZ_SECS ?= 60
FUZZERS = tests/fuzz/relay_fuzz tests/fuzz/proxyproto_fuzz \
	tests/fuzz/values_fuzz tests/fuzz/cli_fuzz tests/fuzz/activate_fuzz
FUZZ_CC = clang $(ALL_CPPFLAGS) -std=c11 $(WARNFLAGS) -O1 -g \
	-fsanitize=fuzzer,address,undefined

fuzz: fuzz-deps
	$(MAKE) fuzz-bins
	tests/fuzz/run.sh $(FUZZ_SECS) $(FUZZERS)

fuzz-deps:
	tests/deps.sh clang

fuzz-bins: $(FUZZERS)

tests/fuzz/relay_fuzz: tests/fuzz/relay_fuzz.c tests/unit/relay_check.h \
	    src/relay.c src/relay.h src/end.h
	$(FUZZ_CC) -o $@ tests/fuzz/relay_fuzz.c src/relay.c
tests/fuzz/proxyproto_fuzz: tests/fuzz/proxyproto_fuzz.c src/proxyproto.c \
	    src/proxyproto.h
	$(FUZZ_CC) -o $@ tests/fuzz/proxyproto_fuzz.c src/proxyproto.c
tests/fuzz/values_fuzz: tests/fuzz/values_fuzz.c src/util.c src/acl.c \
	    src/netio_addr.c src/log.c $(wildcard src/*.h)
	$(FUZZ_CC) -o $@ tests/fuzz/values_fuzz.c src/util.c src/acl.c \
		src/netio_addr.c src/log.c
# The command line and the activation environment end the program on bad
# input: their files are built with exit() or err()/errx() renamed to the
# target's own, which jumps back (see the targets' comments).
tests/fuzz/cli_fuzz: tests/fuzz/cli_fuzz.c src/cli.c src/cli_opts.c \
	    src/cli_shield.c src/acl.c src/util.c src/log.c $(wildcard src/*.h)
	$(FUZZ_CC) -Dexit=fuzz_exit -c -o tests/fuzz/cli_fuzz_cli.o src/cli.c
	$(FUZZ_CC) -o $@ tests/fuzz/cli_fuzz.c tests/fuzz/cli_fuzz_cli.o \
		src/cli_opts.c src/cli_shield.c src/acl.c src/util.c src/log.c
	rm -f tests/fuzz/cli_fuzz_cli.o
tests/fuzz/activate_fuzz: tests/fuzz/activate_fuzz.c src/activate.c \
	    src/netio.c src/netio_addr.c src/util.c src/log.c $(wildcard src/*.h)
	$(FUZZ_CC) -Derr=fuzz_err -Derrx=fuzz_err -c \
		-o tests/fuzz/activate_fuzz_act.o src/activate.c
	$(FUZZ_CC) -o $@ tests/fuzz/activate_fuzz.c \
		tests/fuzz/activate_fuzz_act.o src/netio.c src/netio_addr.c \
		src/util.c src/log.c
	rm -f tests/fuzz/activate_fuzz_act.o

# Side-by-side benchmark against other TCP proxies (tests/bench/README.md).
# Manual, never part of check: timings do not pass or fail.
bench:
	@tests/bench/run.sh $(BENCHFLAGS)

bench-quick:
	@tests/bench/run.sh --quick $(BENCHFLAGS)

# The soak test (tests/soak.sh): the real proxy under a mix of checked
# connections and reloads for SOAK_SECS seconds; fails on a pair, a byte,
# memory or a descriptor lost.  Manual, never part of check.
SOAK_SECS ?= 120
soak: all progs
	SOAK_SECS=$(SOAK_SECS) tests/soak.sh

# The reliability report (tests/reliability.sh): the fault, hostile-peer
# and load files, every fuzzer for FUZZ_SECS and the soak for 300 s, then
# their figures into README.md's "Reliability" section, only if all passed.
reliability: all progs
	SOAK_SECS=$(if $(filter command line environment,$(origin SOAK_SECS)),$(SOAK_SECS),300) \
		FUZZ_SECS=$(FUZZ_SECS) tests/reliability.sh

# systemd units (systemd/README.md).  The services name the binary and
# the environment file by their installed paths, without DESTDIR, so
# they are rendered from their .in files here.  The environment file
# holds the user's destination: install never replaces it, and
# uninstall removes it only as it was installed.
UNITS = systemd/tcpproxy.socket systemd/tcpproxy-accept.socket
UNITS_IN = tcpproxy.service tcpproxy-accept@.service
ENVFILE = $(SYSCONFDIR)/default/tcpproxy
SUBST = sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSCONFDIR)/default
	install -m 755 $(BIN) $(DESTDIR)$(BINDIR)/tcpproxy
	install -m 644 src/tcpproxy.1 $(DESTDIR)$(MANDIR)/man1/tcpproxy.1
	install -m 644 $(UNITS) $(DESTDIR)$(SYSTEMDUNITDIR)
	for u in $(UNITS_IN); do \
		$(SUBST) systemd/$$u.in >$(DESTDIR)$(SYSTEMDUNITDIR)/$$u && \
		chmod 644 $(DESTDIR)$(SYSTEMDUNITDIR)/$$u || exit 1; \
	done
	test -e $(DESTDIR)$(ENVFILE) || \
		install -m 644 systemd/tcpproxy.default $(DESTDIR)$(ENVFILE)

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/tcpproxy $(DESTDIR)$(MANDIR)/man1/tcpproxy.1
	rm -f $(UNITS:systemd/%=$(DESTDIR)$(SYSTEMDUNITDIR)/%) \
		$(UNITS_IN:%=$(DESTDIR)$(SYSTEMDUNITDIR)/%)
	if cmp -s systemd/tcpproxy.default $(DESTDIR)$(ENVFILE); then \
		rm -f $(DESTDIR)$(ENVFILE); \
	fi

dist:
	rm -rf tcpproxy-$(VERSION) tcpproxy-$(VERSION).tar.gz
	mkdir tcpproxy-$(VERSION)
	git ls-files | tar -cf - -T - | tar -xf - -C tcpproxy-$(VERSION)
	tar -czf tcpproxy-$(VERSION).tar.gz tcpproxy-$(VERSION)
	rm -rf tcpproxy-$(VERSION)

clean:
	rm -f $(BIN) src/tcpproxy-asan src/tcpproxy-ubsan src/tcpproxy-vg \
		$(PROGS) $(UNITS_C) \
		$(FUZZERS) tcpproxy-$(VERSION).tar.gz
	rm -rf $(OBJDIR) $(VGLOGS)

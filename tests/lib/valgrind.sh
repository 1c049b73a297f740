#!/bin/sh
# The proxy under valgrind's memcheck, its children traced: make valgrind
# runs a core of the bats suite through this.  Each start gets a directory
# of its own under TCPPROXY_VGLOGS (pids are reused during a run), where
# each of its processes, the master and every child, writes a report named
# by its pid; tests/lib/valgrind-check.sh reads them all after the run.
# A memcheck error, or a block definitely or indirectly lost, also makes
# that process exit 99: a master then fails its test at teardown, and a
# child's master logs "exited with status 99".
#
# Children are checked for leaks too: a child that ends with _exit()
# leaves its blocks allocated, but they are still reachable, from static
# data or from the frames that called _exit(), which valgrind counts
# apart.  glibc's clean-up at exit (libc_freeres) is off: it sets environ
# to NULL, and the copy of the environment title.c made would then look
# definitely lost.
mkdir -p "${TCPPROXY_VGLOGS:?}" &&
    vgdir=$(mktemp -d "$TCPPROXY_VGLOGS/run.XXXXXX") || exit 1
exec valgrind --tool=memcheck --trace-children=yes --vgdb=no \
    --error-exitcode=99 --leak-check=full \
    --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect \
    --run-libc-freeres=no \
    --suppressions="$(dirname "$0")/valgrind.supp" \
    --log-file="$vgdir/%p.log" \
    "${TCPPROXY_BIN:?}" "$@"

#!/bin/sh
# For tests/progs/tester, which runs "COMMAND... DEST-HOST DEST-PORT
# LISTEN-PORT" itself: the same command started by systemd-socket-activate
# (Accept=no) on 127.0.0.1:LISTEN-PORT.  The activator execs it in place on
# the first connection, so the tester's SIGTERM and its checks of the exit
# status and of the process group reach the proxy itself.  The proxy keeps
# its listen-port argument, which must agree with the socket passed.  The
# activator passes on only a few variables: TCPPROXY_BIN (for
# tests/lib/copy-path.sh) and the sanitizers' options are added, when set.
for port; do :; done
exec systemd-socket-activate -l "127.0.0.1:$port" --fdname=tester \
    ${TCPPROXY_BIN+-E TCPPROXY_BIN} ${ASAN_OPTIONS+-E ASAN_OPTIONS} \
    ${UBSAN_OPTIONS+-E UBSAN_OPTIONS} ${LSAN_OPTIONS+-E LSAN_OPTIONS} -- "$@"

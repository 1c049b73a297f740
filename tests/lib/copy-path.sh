#!/bin/sh
# The proxy with its portable copy path forced, each child serving up to
# five pairs: make check runs every test file that moves data
# (file_tags=data) through this too, so that copying and child reuse keep
# every rule.
exec "${TCPPROXY_BIN:?}" --splice=never --pairs-per-child=5 "$@"

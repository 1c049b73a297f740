#!/bin/sh
# The proxy splicing every byte, each child serving pairs until it is
# retired: make check runs every test file that moves data
# (file_tags=data) through this too, so that the splice path and
# unlimited child reuse keep every rule.
exec "${TCPPROXY_BIN:?}" --splice=always --pairs-per-child=0 "$@"

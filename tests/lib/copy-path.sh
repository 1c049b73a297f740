#!/bin/sh
# The proxy with its portable copy path forced: make check runs every test
# file that moves data (file_tags=data) through this too, so both data
# paths keep every rule.
exec "${TCPPROXY_BIN:?}" --no-splice "$@"

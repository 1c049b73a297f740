#!/bin/sh
# The proxy with its portable copy path forced: make check runs the whole
# suite through this too, so both data paths keep every rule.
exec "${TCPPROXY_BIN:?}" --no-splice "$@"

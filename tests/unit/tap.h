/*
 * tap.h: the unit tests' harness.  CHECK() records a failed expression
 * with its place and lets the test go on; tap_run() runs a table of tests
 * and prints TAP: "ok N - name" or "not ok N - name" per test, failed
 * checks as "#" lines, then "N passed, M failed".  Header-only: each test
 * program is one file plus the code it tests.
 */
#ifndef TCPPROXY_TAP_H
#define TCPPROXY_TAP_H

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_fails;		/* failed CHECKs in the current test */

#define CHECK(e) do {							\
	if (!(e)) {							\
		printf("# %s:%d: CHECK(%s) failed\n",			\
		    __FILE__, __LINE__, #e);				\
		tap_fails++;						\
	}								\
} while (0)

struct tap_test {
	const char	*name;
	void		 (*fn)(void);
};

/* Run the n tests; the exit status for main(). */
static inline int
tap_run(const struct tap_test *tests, size_t n)
{
	size_t i;
	int passed = 0, failed = 0;

	/* Keep our lines in order with an assert() message on stderr. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..%zu\n", n);
	for (i = 0; i < n; i++) {
		tap_fails = 0;
		tests[i].fn();
		if (tap_fails == 0) {
			printf("ok %zu - %s\n", i + 1, tests[i].name);
			passed++;
		} else {
			printf("not ok %zu - %s\n", i + 1, tests[i].name);
			failed++;
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#define TAP_RUN(tests)	tap_run(tests, sizeof(tests) / sizeof(tests[0]))

/* A pseudo-random number (xorshift), the same sequence in every run. */
static inline uint32_t
tap_rand(void)
{
	static uint32_t x = 2463534242u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x;
}

/* The IPv4 or IPv6 address text, port 0, in *ss; its length.  */
static inline socklen_t
tap_addr(const char *text, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		return sizeof(*sin);
	}
	if (inet_pton(AF_INET6, text, &s6->sin6_addr) != 1)
		abort();
	s6->sin6_family = AF_INET6;
	return sizeof(*s6);
}

#endif /* TCPPROXY_TAP_H */

/*
 * acl_test.c: unit tests for acl.c, the --allow and --deny rules: what
 * parses and what does not, and which client each rule set lets in.  No
 * sockets: addresses are made with inet_pton().  Output is TAP (tap.h).
 * Calls acl.c only.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "tap.h"

/* 1 if the client at text (an IPv4 or IPv6 address) may connect. */
static int
permit(const struct acl *acl, const char *text)
{
	struct sockaddr_storage ss;
	socklen_t len = tap_addr(text, &ss);

	return acl_permit(acl, (struct sockaddr *)&ss, len);
}

/* An ACL from "+CIDR" (allow) and "-CIDR" (deny) words; NULL ends. */
static struct acl
rules(const char *first, ...)
{
	struct acl acl;
	const char *why, *w;
	va_list ap;

	memset(&acl, 0, sizeof(acl));
	va_start(ap, first);
	for (w = first; w != NULL; w = va_arg(ap, const char *))
		if (acl_add(&acl, w + 1, w[0] == '+', &why) == -1)
			abort();
	va_end(ap);
	return acl;
}

static void
t_parse(void)
{
	struct acl_rule r;
	const char *why;

	CHECK(acl_parse("10.0.0.0/8", &r, &why) == 0);
	CHECK(r.family == AF_INET && r.bits == 8 && r.net[0] == 10);
	CHECK(acl_parse("192.0.2.7", &r, &why) == 0 && r.bits == 32);
	CHECK(acl_parse("0.0.0.0/0", &r, &why) == 0 && r.bits == 0);
	CHECK(acl_parse("2001:db8::/32", &r, &why) == 0);
	CHECK(r.family == AF_INET6 && r.bits == 32);
	CHECK(acl_parse("[::1]", &r, &why) == 0 && r.bits == 128);
	CHECK(acl_parse("[2001:db8::]/48", &r, &why) == 0 && r.bits == 48);
	CHECK(acl_parse("::/0", &r, &why) == 0 && r.bits == 0);
	/* Written IPv4-mapped: the IPv4 network, as clients are matched. */
	CHECK(acl_parse("::ffff:192.0.2.0/120", &r, &why) == 0);
	CHECK(r.family == AF_INET && r.bits == 24 && r.net[0] == 192 &&
	    r.net[2] == 2 && r.net[3] == 0);
	CHECK(acl_parse("[::ffff:10.1.2.3]", &r, &why) == 0);
	CHECK(r.family == AF_INET && r.bits == 32 && r.net[3] == 3);
	CHECK(acl_parse("::ffff:0:0/96", &r, &why) == 0);
	CHECK(r.family == AF_INET && r.bits == 0);	/* every IPv4 one */
	CHECK(acl_parse("::/80", &r, &why) == 0 && r.family == AF_INET6);
}

static void
t_parse_refuses(void)
{
	static const char *const bad[] = {
		"", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1",
		"10.0.0.0/8x", "10.0.0.0/ 8", "10.1.0.0/8", "::1/129",
		"2001:db8::1/32", "foo", "10.0.0", "[10.0.0.0]x", "[::1",
		"10.0.0.0/08x", "1.2.3.4.5", "::1/99999999999",
	};
	struct acl_rule r;
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		if (acl_parse(bad[i], &r, &why) != -1 || why == NULL) {
			printf("# accepted '%s'\n", bad[i]);
			CHECK(0);
		}
	}
}

static void
t_no_rules_let_everyone_in(void)
{
	struct acl acl = rules(NULL);

	CHECK(permit(&acl, "192.0.2.1") == 1);
	CHECK(permit(&acl, "2001:db8::1") == 1);
}

static void
t_deny_only(void)
{
	struct acl acl = rules("-192.0.2.0/24", "-2001:db8::/32", NULL);

	CHECK(permit(&acl, "192.0.2.200") == 0);
	CHECK(permit(&acl, "192.0.3.1") == 1);
	CHECK(permit(&acl, "2001:db8:ffff::1") == 0);
	CHECK(permit(&acl, "2001:db9::1") == 1);
	/* An IPv4-mapped client is the IPv4 address it is. */
	CHECK(permit(&acl, "::ffff:192.0.2.9") == 0);
	CHECK(permit(&acl, "::ffff:198.51.100.1") == 1);
	/* ... and so is a rule written IPv4-mapped. */
	acl = rules("-::ffff:198.51.100.0/120", NULL);
	CHECK(permit(&acl, "::ffff:198.51.100.1") == 0);
	CHECK(permit(&acl, "198.51.100.1") == 0);
	CHECK(permit(&acl, "198.51.101.1") == 1);
}

static void
t_allow_denies_the_rest(void)
{
	struct acl acl = rules("+10.0.0.0/8", NULL);

	CHECK(permit(&acl, "10.255.0.1") == 1);
	CHECK(permit(&acl, "11.0.0.1") == 0);
	CHECK(permit(&acl, "::ffff:10.1.1.1") == 1);
	CHECK(permit(&acl, "::1") == 0);
}

static void
t_first_match_wins(void)
{
	struct acl acl = rules("-10.1.0.0/16", "+10.0.0.0/8", NULL);
	struct acl rev = rules("+10.0.0.0/8", "-10.1.0.0/16", NULL);

	CHECK(permit(&acl, "10.1.2.3") == 0);
	CHECK(permit(&acl, "10.2.0.1") == 1);
	CHECK(permit(&rev, "10.1.2.3") == 1);
}

static void
t_prefix_edges(void)
{
	struct acl acl = rules("-192.0.2.128/25", "-2001:db8::8000/113",
	    "-0.0.0.0/0", "+::/0", NULL);

	CHECK(permit(&acl, "192.0.2.127") == 0);	/* /0 catches it */
	acl = rules("-192.0.2.128/25", "-2001:db8::8000/113", NULL);
	CHECK(permit(&acl, "192.0.2.127") == 1);
	CHECK(permit(&acl, "192.0.2.128") == 0);
	CHECK(permit(&acl, "192.0.2.255") == 0);
	CHECK(permit(&acl, "2001:db8::7fff") == 1);
	CHECK(permit(&acl, "2001:db8::8000") == 0);
	CHECK(permit(&acl, "2001:db8::ffff") == 0);
}

static void
t_unix_client(void)
{
	struct sockaddr_un sun;
	struct acl deny = rules("-10.0.0.0/8", NULL);
	struct acl allow = rules("+10.0.0.0/8", NULL);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	CHECK(acl_permit(&deny, (struct sockaddr *)&sun, sizeof(sun)) == 1);
	CHECK(acl_permit(&allow, (struct sockaddr *)&sun, sizeof(sun)) == 0);
}

static const struct tap_test tests[] = {
	{ "addresses and networks that parse", t_parse },
	{ "what does not parse, with a reason", t_parse_refuses },
	{ "no rules: everyone", t_no_rules_let_everyone_in },
	{ "deny rules only: the rest may", t_deny_only },
	{ "an allow rule: what matches nothing is denied",
	    t_allow_denies_the_rest },
	{ "the first rule that matches decides", t_first_match_wins },
	{ "prefix edges, IPv4 and IPv6", t_prefix_edges },
	{ "a unix client matches no rule", t_unix_client },
};

int
main(void)
{
	return TAP_RUN(tests);
}

/*
 * acl.c: the --allow and --deny rules.  Owns nothing but the rule array
 * that cli.c fills before the first fork; children only read it.  Parsing
 * and matching make no system call, so a unit test drives them.  Calls
 * nothing of the project.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"

/* Longest text of an address, brackets and prefix included. */
#define ACL_TEXT_MAX	(INET6_ADDRSTRLEN + 8)

/* The first 12 bytes of an IPv4-mapped IPv6 address. */
static const unsigned char v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* The prefix length after '/', in [0, max]: 0, or -1. */
static int
parse_bits(const char *s, unsigned max, unsigned *bits)
{
	unsigned v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || (v = v * 10 + (unsigned)(*s - '0'))
		    > max)
			return -1;
	}
	*bits = v;
	return 0;
}

/* 1 if no bit of addr beyond the first bits is set. */
static int
host_bits_clear(const unsigned char *addr, unsigned len, unsigned bits)
{
	unsigned i;

	for (i = bits; i < len * 8; i++)
		if (addr[i / 8] & (0x80 >> (i % 8)))
			return 0;
	return 1;
}

/*
 * acl_parse: "10.0.0.0/8", "192.0.2.7", "2001:db8::/32", "[::1]".
 */
int
acl_parse(const char *s, struct acl_rule *r, const char **why)
{
	char text[ACL_TEXT_MAX];
	const char *slash = strchr(s, '/');
	size_t len = slash != NULL ? (size_t)(slash - s) : strlen(s);
	unsigned max;

	*why = "not an IPv4 or IPv6 address";
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof(text))
		return -1;
	memcpy(text, s, len);
	text[len] = '\0';
	memset(r, 0, sizeof(*r));
	if (inet_pton(AF_INET, text, r->net) == 1)
		r->family = AF_INET;
	else if (inet_pton(AF_INET6, text, r->net) == 1)
		r->family = AF_INET6;
	else
		return -1;
	max = r->family == AF_INET ? 32 : 128;
	r->bits = max;
	if (slash != NULL && parse_bits(slash + 1, max, &r->bits) == -1) {
		*why = r->family == AF_INET ? "prefix length not in 0-32" :
		    "prefix length not in 0-128";
		return -1;
	}
	if (!host_bits_clear(r->net, max / 8, r->bits)) {
		*why = "bits set after the prefix length";
		return -1;
	}
	/*
	 * A network written IPv4-mapped (::ffff:192.0.2.0/120) is the IPv4
	 * network it names, since a mapped client is matched as IPv4.
	 */
	if (r->family == AF_INET6 && r->bits >= 96 &&
	    memcmp(r->net, v4mapped, sizeof(v4mapped)) == 0) {
		memmove(r->net, r->net + 12, 4);
		memset(r->net + 4, 0, 12);
		r->family = AF_INET;
		r->bits -= 96;
	}
	return 0;
}

/*
 * acl_add: one more rule; the array grows before the first fork only.
 */
int
acl_add(struct acl *acl, const char *cidr, int allow, const char **why)
{
	struct acl_rule r, *more;

	if (acl_parse(cidr, &r, why) == -1)
		return -1;
	r.allow = allow;
	if ((more = realloc(acl->rule, (acl->n + 1) * sizeof(*more))) ==
	    NULL) {
		*why = strerror(errno);
		return -1;
	}
	acl->rule = more;
	acl->rule[acl->n++] = r;
	acl->any_allow |= allow;
	return 0;
}

void
acl_free(struct acl *acl)
{
	free(acl->rule);
	acl->rule = NULL;
	acl->n = 0;
	acl->any_allow = 0;
}

/* 1 if the first bits of a and b are the same. */
static int
prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));

	if (memcmp(a, b, full) != 0)
		return 0;
	return rest == 0 || ((a[full] ^ b[full]) & mask) == 0;
}

/*
 * acl_permit: the first matching rule decides.
 */
int
acl_permit(const struct acl *acl, const struct sockaddr *sa, socklen_t len)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
	const unsigned char *addr;
	unsigned i;
	int family = sa->sa_family;

	if (acl->n == 0)
		return 1;
	if (family == AF_INET && len >= sizeof(struct sockaddr_in))
		addr = (const unsigned char *)
		    &((const struct sockaddr_in *)sa)->sin_addr;
	else if (family == AF_INET6 && len >= sizeof(*s6)) {
		addr = s6->sin6_addr.s6_addr;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			family = AF_INET;
			addr += 12;
		}
	} else
		return !acl->any_allow;	/* a unix client: no address */
	for (i = 0; i < acl->n; i++)
		if (acl->rule[i].family == family &&
		    prefix_equal(acl->rule[i].net, addr, acl->rule[i].bits))
			return acl->rule[i].allow;
	return !acl->any_allow;
}

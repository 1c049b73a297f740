/*
 * dest.c: resolve the destination into a fixed array of addresses that
 * children inherit across fork().  Children never resolve: getaddrinfo()
 * can block far beyond any timeout of ours.  Also the order in which a
 * child tries them (dest_order(), pure).  Owns no state; calls nothing of
 * the project.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <netdb.h>
#include <string.h>

#include "dest.h"

/*
 * dest_resolve: host and port into *d, in getaddrinfo()'s order.  No
 * AI_ADDRCONFIG: on a host with only loopback it would hide answers.
 */
int
dest_resolve(const char *host, const char *port, struct dest *d)
{
	struct addrinfo hints, *res, *ai;
	struct dest nd;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
		return rc;
	memset(&nd, 0, sizeof(nd));
	for (ai = res; ai != NULL && nd.n < DEST_MAX; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(nd.addr[0].ss))
			continue;
		memcpy(&nd.addr[nd.n].ss, ai->ai_addr, ai->ai_addrlen);
		nd.addr[nd.n].len = ai->ai_addrlen;
		nd.n++;
	}
	freeaddrinfo(res);
	if (nd.n == 0)
		return EAI_NONAME;
	*d = nd;
	return 0;
}

const char *
dest_strerror(int rc)
{
	return rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc);
}

int
dest_equal(const struct dest *a, const struct dest *b)
{
	int i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (a->addr[i].len != b->addr[i].len ||
		    memcmp(&a->addr[i].ss, &b->addr[i].ss, a->addr[i].len) != 0)
			return 0;
	return 1;
}

/*
 * dest_order: the first family first, then the families in turn.
 */
int
dest_order(const struct dest *d, int family, int order[DEST_MAX])
{
	int first[DEST_MAX], other[DEST_MAX], nf = 0, no = 0, n = 0, i;

	for (i = 0; i < d->n; i++) {
		if (family != AF_UNSPEC && d->addr[i].ss.ss_family != family)
			continue;
		if (d->addr[i].ss.ss_family == d->addr[0].ss.ss_family)
			first[nf++] = i;
		else
			other[no++] = i;
	}
	for (i = 0; i < nf || i < no; i++) {
		if (i < nf)
			order[n++] = first[i];
		if (i < no)
			order[n++] = other[i];
	}
	return n;
}

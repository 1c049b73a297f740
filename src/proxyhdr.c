/*
 * proxyhdr.c: the PROXY protocol header on a socket.  Receiving takes
 * nothing of what follows the header, which belongs to the relay, without
 * reading a byte at a time: peek, and consume only bytes the parser has
 * said are header (all of them while it wants more, so that the next
 * wait sleeps until new bytes come; just the rest of the header once it is
 * known), then read and drop a v2 header's TLVs.  Sending writes the
 * header to a fresh connection, whose send buffer is empty, so it nearly
 * always goes in one write.  Owns nothing.  Calls proxyproto and netio.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>

#include "netio.h"
#include "proxyhdr.h"

/* Take n bytes that the parser has seen from fd's queue into buf. */
static int
consume(int fd, uint8_t *buf, size_t n)
{
	ssize_t got;

	while (n > 0) {
		got = recv(fd, buf, n, 0);
		if (got == -1 && errno == EINTR)
			continue;
		if (got <= 0)		/* they were queued: cannot happen */
			return -1;
		buf += got;
		n -= (size_t)got;
	}
	return 0;
}

/* Read and drop the n bytes of TLVs that end a v2 header, into buf. */
static enum end_reason
skip(int fd, size_t n, uint8_t *buf, size_t size, int64_t deadline,
    const sigset_t *waitmask, int *err)
{
	ssize_t got;
	int rc;

	while (n > 0) {
		got = recv(fd, buf, n < size ? n : size, 0);
		if (got > 0) {
			n -= (size_t)got;
			continue;
		}
		if (got == -1 && errno == EINTR)
			continue;
		if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
			*err = got == 0 ? ENODATA : errno;
			return END_BAD_HEADER;
		}
		if ((rc = netio_wait(fd, 0, deadline, waitmask)) == NETIO_WAKE)
			return END_SIGNAL;
		if (rc != NETIO_OK) {
			*err = errno;
			return END_BAD_HEADER;
		}
	}
	return END_NONE;
}

enum end_reason
proxyhdr_recv(int fd, int64_t deadline, const sigset_t *waitmask,
    struct pp_header *h, int *err)
{
	uint8_t buf[PP_DECIDE];		/* small: a child's stack is one page */
	size_t have = 0, take;
	ssize_t n;
	int rc;

	for (;;) {
		n = recv(fd, buf + have, sizeof(buf) - have, MSG_PEEK);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK) {
			*err = errno;
			return END_BAD_HEADER;
		}
		if (n == 0) {
			*err = ENODATA;
			return END_BAD_HEADER;
		}
		if (n > 0) {
			switch (pp_parse(buf, have + (size_t)n, h)) {
			case PP_OK:
				take = have + (size_t)n < h->len ?
				    (size_t)n : h->len - have;
				if (consume(fd, buf + have, take) == -1)
					break;
				return skip(fd, h->len - have - take, buf,
				    sizeof(buf), deadline, waitmask, err);
			case PP_BAD:
				*err = EPROTO;
				return END_BAD_HEADER;
			case PP_MORE:
				if (consume(fd, buf + have, (size_t)n) == -1)
					break;
				have += (size_t)n;
				continue;	/* the queue is empty: wait */
			}
			*err = EIO;
			return END_BAD_HEADER;
		}
		rc = netio_wait(fd, 0, deadline, waitmask);
		if (rc == NETIO_WAKE)
			return END_SIGNAL;
		if (rc != NETIO_OK) {
			*err = errno;
			return END_BAD_HEADER;
		}
	}
}

int
proxyhdr_send(int fd, int version, const struct sockaddr *src,
    const struct sockaddr *dst, int64_t deadline, const sigset_t *waitmask)
{
	uint8_t hdr[PP_SEND_MAX];
	size_t len, off = 0;
	ssize_t n;
	int rc;

	len = pp_build(version, src, dst, hdr);
	while (off < len) {
		n = send(fd, hdr + off, len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		rc = netio_wait(fd, 1, deadline, waitmask);
		if (rc == NETIO_WAKE) {
			errno = EINTR;
			return -1;
		}
		if (rc != NETIO_OK)
			return -1;
	}
	return 0;
}

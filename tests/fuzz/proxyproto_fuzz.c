/*
 * proxyproto_fuzz.c: libFuzzer target for proxyproto.c.
 *
 * The input is parsed as it comes and byte by byte as a slow client would
 * send it: the verdict on a prefix must never contradict the verdict on
 * the whole (once a prefix is a whole header or broken, so is every
 * longer input, with the same length), PP_DECIDE bytes always decide, a
 * v1 header is never longer than the input, and an accepted header's
 * addresses survive being built again and parsed back, both versions (an
 * IPv4-mapped one as IPv4; a pair of mixed families as no address).  Any
 * mismatch is an abort().  Byte 0 of the input, when it is 'A' or 'B',
 * starts the rest with the v2 signature or "PROXY ", so that the deeper
 * paths are reached quickly.
 * Calls proxyproto.c only.
 */
#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxyproto.h"

static const uint8_t v2sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* An IPv4-mapped IPv6 address as the IPv4 one it is (sent as such). */
static void
plain(const struct sockaddr_storage *in, struct sockaddr_storage *out)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)in;
	struct sockaddr_in *sin = (struct sockaddr_in *)out;

	*out = *in;
	if (in->ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		return;
	memset(out, 0, sizeof(*out));
	sin->sin_family = AF_INET;
	sin->sin_port = s6->sin6_port;
	memcpy(&sin->sin_addr, &s6->sin6_addr.s6_addr[12], 4);
}

static int
same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	return a->ss_family == b->ss_family &&
	    memcmp(a, b, a->ss_family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[PP_MAX + 64];
	struct pp_header whole, part, back;
	struct sockaddr_storage src, dst;
	uint8_t out[PP_SEND_MAX];
	enum pp_result r, rp;
	size_t len, i, n;
	int v;

	if (size == 0)
		return 0;
	len = size - 1 < sizeof(buf) ? size - 1 : sizeof(buf);
	memcpy(buf, data + 1, len);
	if (data[0] == 'A' && len >= 16)
		memcpy(buf, v2sig, sizeof(v2sig));
	else if (data[0] == 'B' && len >= 6)
		memcpy(buf, "PROXY ", 6);
	r = pp_parse(buf, len, &whole);
	if (r == PP_OK && (whole.len == 0 || whole.len > PP_MAX ||
	    (whole.version == 1 && whole.len > len)))
		abort();
	if (r == PP_MORE && len >= PP_DECIDE)
		abort();
	if (r == PP_BAD && whole.why == NULL)
		abort();
	/* A slow client: every prefix, in order. */
	for (i = 0; i <= len && i <= 300; i++) {
		rp = pp_parse(buf, i, &part);
		if (rp == PP_MORE)
			continue;
		if (rp != r)
			abort();
		if (rp == PP_OK && part.len != whole.len)
			abort();
		break;
	}
	if (r != PP_OK || !whole.has_addr)
		return 0;
	/* Mapped addresses go as IPv4; a mixed pair cannot go at all. */
	plain(&whole.src, &src);
	plain(&whole.dst, &dst);
	for (v = 1; v <= 2; v++) {
		n = pp_build(v, (struct sockaddr *)&whole.src,
		    (struct sockaddr *)&whole.dst, out);
		if (n == 0 || n > PP_SEND_MAX || pp_parse(out, n, &back) != PP_OK ||
		    back.len != n)
			abort();
		if (src.ss_family != dst.ss_family) {
			if (back.has_addr)
				abort();
			continue;
		}
		if (!back.has_addr || !same_addr(&back.src, &src) ||
		    !same_addr(&back.dst, &dst))
			abort();
	}
	return 0;
}

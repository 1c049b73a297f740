/*
 * failsend.so: an LD_PRELOAD library that makes send(2) fail with
 * ECONNRESET for a buffer that begins like a PROXY protocol header (v1
 * "PROXY " or the v2 signature), and passes every other call through.  It
 * lets a test see what tcpproxy does when its --send-proxy header cannot
 * be sent, which a real peer cannot be made to cause on demand.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

ssize_t send(int, const void *, size_t, int);

ssize_t
send(int fd, const void *buf, size_t len, int flags)
{
	static const char v2[] = "\r\n\r\n\0\r\nQUIT\n";

	if ((len >= 6 && memcmp(buf, "PROXY ", 6) == 0) ||
	    (len >= 12 && memcmp(buf, v2, 12) == 0)) {
		errno = ECONNRESET;
		return -1;
	}
	return syscall(SYS_sendto, fd, buf, len, flags, NULL, 0);
}

/*
 * freeport: print a TCP port that is free on the loopback address.
 *
 * Usage: freeport [-6]
 * Binds a socket to 127.0.0.1:0 (or [::1]:0 with -6), reads the port the
 * kernel chose back and prints it.  The port is released again on exit, so
 * a caller that binds it later may lose a race; callers retry.  Exit 1 when
 * the address cannot be bound (the tests use -6 to see whether ::1 exists).
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd, v6;

	v6 = (argc == 2 && strcmp(argv[1], "-6") == 0);
	if (argc > 2 || (argc == 2 && !v6)) {
		fprintf(stderr, "usage: freeport [-6]\n");
		return 2;
	}
	memset(&ss, 0, sizeof(ss));
	if (v6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof(*sin6);
	} else {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*sin);
	}
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd == -1 || bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		perror("freeport");
		return 1;
	}
	printf("%u\n", (unsigned)ntohs(v6 ? sin6->sin6_port : sin->sin_port));
	close(fd);
	return 0;
}

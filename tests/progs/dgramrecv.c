/*
 * dgramrecv: a stand-in for the syslog daemon in the tests.
 *
 * Usage: dgramrecv PATH
 * Binds a unix datagram socket at PATH (removing a stale socket there
 * first) and writes every datagram it receives to stdout as one line: the
 * datagram's bytes, then a newline.  Each line is one write(2), so a
 * reader of the file sees whole lines.  Runs until killed.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DGRAM_MAX	8192

int
main(int argc, char *argv[])
{
	struct sockaddr_un sun;
	struct stat st;
	char buf[DGRAM_MAX + 1];
	ssize_t n;
	int fd;

	if (argc != 2 || strlen(argv[1]) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "usage: dgramrecv PATH\n");
		return 2;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, argv[1], strlen(argv[1]) + 1);
	if (lstat(argv[1], &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(argv[1]);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "dgramrecv: %s: %s\n", argv[1],
		    strerror(errno));
		return 1;
	}
	for (;;) {
		n = recv(fd, buf, DGRAM_MAX, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fprintf(stderr, "dgramrecv: recv: %s\n",
			    strerror(errno));
			return 1;
		}
		buf[n] = '\n';
		if (write(STDOUT_FILENO, buf, (size_t)n + 1) != n + 1)
			return 1;
	}
}

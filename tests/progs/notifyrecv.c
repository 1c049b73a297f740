/*
 * notifyrecv: the receiving end of sd_notify(3) for the tests: what
 * systemd would read from NOTIFY_SOCKET.
 *
 * Usage: notifyrecv [-c] PATH|@NAME
 * Binds a unix datagram socket to PATH, or to the abstract NAME when the
 * argument starts with '@' (as NOTIFY_SOCKET spells it), then prints each
 * datagram it receives on stdout as one block: the message's lines, then
 * an empty line.  With -c the block starts with "PID=N", the process that
 * sent it (SO_PASSCRED), as systemd checks it.  Output is flushed after
 * every message.  Runs until killed; exit 1 if the socket cannot be made.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MSG_MAX		4096

static int
bind_notify(const char *name)
{
	struct sockaddr_un sun;
	socklen_t len;
	size_t n = strlen(name);
	int fd, one = 1;

	if (n < 2 || n >= sizeof(sun.sun_path))
		errx(2, "socket name '%s': empty or too long", name);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, name, n);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	if (name[0] == '@')
		sun.sun_path[0] = '\0';	/* abstract: no NUL at the end */
	else
		len++;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		err(1, "socket");
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) == -1)
		err(1, "SO_PASSCRED");
	if (bind(fd, (struct sockaddr *)&sun, len) == -1)
		err(1, "bind %s", name);
	return fd;
}

/* The sender's pid from the message's credentials, or -1. */
static long
sender(struct msghdr *mh)
{
	struct cmsghdr *c;
	struct ucred cred;

	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c))
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_CREDENTIALS) {
			memcpy(&cred, CMSG_DATA(c), sizeof(cred));
			return (long)cred.pid;
		}
	return -1;
}

int
main(int argc, char **argv)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(struct ucred))];
	} ctl;
	char msg[MSG_MAX];
	struct msghdr mh;
	struct iovec iov;
	ssize_t n;
	int fd, creds = 0;

	if (argc == 3 && strcmp(argv[1], "-c") == 0) {
		creds = 1;
		argv++;
		argc--;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: notifyrecv [-c] path|@name\n");
		return 2;
	}
	fd = bind_notify(argv[1]);
	for (;;) {
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = msg;
		iov.iov_len = sizeof(msg);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		if ((n = recvmsg(fd, &mh, 0)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "recvmsg");
		}
		if (creds)
			printf("PID=%ld\n", sender(&mh));
		/* A message may or may not end in a newline. */
		printf("%.*s%s\n", (int)n, msg,
		    n > 0 && msg[n - 1] == '\n' ? "" : "\n");
		fflush(stdout);
	}
}

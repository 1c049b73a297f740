/*
 * priv.c: changing the root and dropping privileges, before the first
 * fork and before the first client, once the listening sockets, the log
 * and the destination are set up.  Runs in the first process only, so
 * problems end it with one line (err(3)).  Calls util to parse numbers,
 * log to sanitise names and to warn.
 */
#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "util.h"
#include "priv.h"

/* The uid and primary gid of user, a name or a number. */
static void
lookup_user(const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;
	char safe[128];
	uint64_t n;

	errno = 0;
	if ((pw = getpwnam(user)) != NULL) {
		*uid = pw->pw_uid;
		*gid = pw->pw_gid;
		return;
	}
	if (util_parse_uint(user, 0, UINT32_MAX - 1, &n) != UTIL_OK) {
		log_sanitize(safe, sizeof(safe), user);
		errx(1, "--user: no user '%s'", safe);
	}
	*uid = (uid_t)n;
	*gid = (pw = getpwuid(*uid)) != NULL ? pw->pw_gid : (gid_t)n;
}

static gid_t
lookup_group(const char *group)
{
	struct group *gr;
	char safe[128];
	uint64_t n;

	if ((gr = getgrnam(group)) != NULL)
		return gr->gr_gid;
	if (util_parse_uint(group, 0, UINT32_MAX - 1, &n) != UTIL_OK) {
		log_sanitize(safe, sizeof(safe), group);
		errx(1, "--group: no group '%s'", safe);
	}
	return (gid_t)n;
}

/* The groups first, while we may still change them. */
static void
drop(uid_t uid, gid_t gid)
{
	if (setgroups(1, &gid) == -1)
		err(1, "cannot drop supplementary groups (setgroups)");
	if (setresgid(gid, gid, gid) == -1)
		err(1, "cannot change group to %lu", (unsigned long)gid);
	if (setresuid(uid, uid, uid) == -1)
		err(1, "cannot change user to %lu", (unsigned long)uid);
	/* What is given up must stay given up. */
	if (uid != 0 && (setuid(0) != -1 || seteuid(0) != -1))
		errx(1, "root could be had back after dropping privileges");
	if (getuid() != uid || geteuid() != uid || getgid() != gid ||
	    getegid() != gid)
		errx(1, "privileges were not dropped as asked");
}

/*
 * The new root, while we may still change it.  What the process needs
 * later of the old one is open already (sockets, log, systemd's notify
 * socket), except the resolver's files: see the man page.
 */
static void
change_root(const char *dir)
{
	char safe[256];

	if (chroot(dir) == -1 || chdir("/") == -1) {
		log_sanitize(safe, sizeof(safe), dir);
		err(1, "cannot change the root to '%s'", safe);
	}
}

/*
 * priv_apply: called by the pool after its set-up (listeners, log,
 * scoreboard: all owned by the user who started it), or before a lone
 * pair.
 */
void
priv_apply(const struct config *cfg)
{
	uid_t uid = getuid();
	gid_t gid = getgid();

	/* Names first: the user database is not in the new root. */
	if (cfg->user != NULL)
		lookup_user(cfg->user, &uid, &gid);
	if (cfg->group != NULL)
		gid = lookup_group(cfg->group);
	if (cfg->chroot != NULL)
		change_root(cfg->chroot);
	if (cfg->user != NULL || cfg->group != NULL)
		drop(uid, gid);
}

void
priv_warn_root(const struct config *cfg)
{
	if (cfg->user == NULL && cfg->group == NULL && geteuid() == 0)
		log_msg(LOGL_WARN, "running as root: --user would drop root "
		    "once the listening sockets are open");
}

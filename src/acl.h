/*
 * acl.h: who may connect: --allow and --deny rules on the client's
 * address, matched in order, the first match deciding.
 */
#ifndef TCPPROXY_ACL_H
#define TCPPROXY_ACL_H

#include <sys/types.h>
#include <sys/socket.h>

/* One rule: a network, and whether it is allowed. */
struct acl_rule {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned	 bits;		/* prefix length */
	unsigned char	 net[16];	/* the network, host bits zero */
	int		 allow;
};

struct acl {
	struct acl_rule	*rule;		/* n of them, in the order given */
	unsigned	 n;
	int		 any_allow;	/* then what matches nothing is denied */
};

/*
 * Parse "ADDRESS[/BITS]" (IPv4, or IPv6 with or without brackets; no BITS:
 * the whole address) into *r.  0, or -1 with *why saying what is wrong.
 */
int	acl_parse(const char *, struct acl_rule *r, const char **why);

/* Add rule cidr at the end of *acl: 0, or -1 with *why (or errno). */
int	acl_add(struct acl *, const char *cidr, int allow, const char **why);
/* Free the rules; *acl is empty again. */
void	acl_free(struct acl *);

/*
 * 1 if a client at sa may connect: the first rule that matches decides;
 * none matching, 0 if there is any --allow rule, else 1.  An IPv4-mapped
 * IPv6 client is matched as the IPv4 address it is.
 */
int	acl_permit(const struct acl *, const struct sockaddr *, socklen_t);

#endif /* TCPPROXY_ACL_H */

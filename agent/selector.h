/*
 * Member selectors (SPEC §5a), as written after `protect =` in a pool:
 *
 *   10.8.0.0/16, 2001:db8::/64   CIDR: every member whose address is in it
 *   10.0.0.9, 2001:db8::5        a bare address: that address, any port
 *   10.0.0.9:80, [2001:db8::5]:80  one address and port
 *   name:GLOB                    the member's name (Huawei `name`, UCloud
 *                                `ResourceName`), fnmatch(3) without flags
 *   instance:ID                  Huawei v3 `instance_id`, UCloud `ResourceId`
 *   type:ip, type:instance       Huawei v3 `member_type`
 *
 * A member whose name, instance id or type is unknown (NULL or "") matches
 * no name:, instance: or type: selector: an unknown attribute is never
 * taken as a match, and protection is stated explicitly where it is needed.
 * An IPv4-mapped IPv6 address (::ffff:10.0.0.9) is matched as the IPv4
 * address it maps.
 */
#ifndef LBR_SELECTOR_H
#define LBR_SELECTOR_H

#include <stddef.h>

enum lbr_selector_kind {
	LBR_SEL_CIDR = 1, /* also a bare address: prefix 32 or 128 */
	LBR_SEL_ADDRPORT = 2,
	LBR_SEL_NAME = 3,
	LBR_SEL_INSTANCE = 4,
	LBR_SEL_TYPE = 5,
};

struct lbr_selector {
	enum lbr_selector_kind kind;
	int family;             /* AF_INET or AF_INET6 (CIDR, ADDRPORT) */
	unsigned char addr[16]; /* network byte order; 4 bytes used for v4 */
	unsigned prefix;        /* CIDR prefix length */
	int bare;               /* CIDR written as a bare address */
	unsigned port;          /* ADDRPORT */
	char text[256];         /* NAME glob, INSTANCE id, TYPE "ip"/"instance" */
	int line;               /* config line, 0 when not from a file */
};

/* Parse `text` into *out.  0, or LBR_EINVAL with one line in err naming
 * the selector and why it is refused. */
int lbr_selector_parse(const char *text, struct lbr_selector *out, char *err, size_t errlen);
/* 1 when a member with these attributes matches (name, instance_id and
 * type may be NULL), else 0.  `address` is IPv4 or IPv6 text without
 * brackets; an address that does not parse matches no address selector. */
int lbr_selector_match(const struct lbr_selector *s, const char *address, unsigned port,
		       const char *name, const char *instance_id, const char *type);
/* The selector in its canonical written form ("10.8.0.0/16",
 * "[2001:db8::5]:80", "name:as-*"), for plans and messages. */
void lbr_selector_describe(const struct lbr_selector *s, char *buf, size_t len);

#endif

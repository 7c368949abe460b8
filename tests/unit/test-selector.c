/*
 * Member selectors (SPEC §5a): every form, its canonical description,
 * matching at the edges of a prefix, and every refusal with its reason.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "agent/error.h"
#include "agent/selector.h"
#include "tests/unit/tap.h"

/* Parse `text`, expect it to describe itself as `canon`. */
static void good(const char *text, enum lbr_selector_kind kind, const char *canon)
{
	struct lbr_selector s;
	char err[512] = "", d[300];
	int r = lbr_selector_parse(text, &s, err, sizeof(err));

	if (!tap_ok(r == 0 && s.kind == kind, "'%s' parses (kind %d)", text, (int)kind))
		printf("#   err: %s\n", err);
	lbr_selector_describe(&s, d, sizeof(d));
	tap_is_str(d, canon, "'%s' is described as '%s'", text, canon);
}

static void bad(const char *text, const char *why)
{
	struct lbr_selector s;
	char err[512] = "";
	int r = lbr_selector_parse(text, &s, err, sizeof(err));

	tap_ok(r == LBR_EINVAL, "'%s' is refused", text);
	if (!tap_ok(strstr(err, why) != NULL, "'%s': the reason says '%s'", text, why))
		printf("#   err: %s\n", err);
}

/* Match `addr:port` (and attributes) against selector `text`. */
static int m(const char *text, const char *addr, unsigned port, const char *name, const char *inst,
	     const char *type)
{
	struct lbr_selector s;
	char err[512];

	if (lbr_selector_parse(text, &s, err, sizeof(err)) < 0) {
		printf("#   unexpected parse failure: %s\n", err);
		return -1;
	}
	return lbr_selector_match(&s, addr, port, name, inst, type);
}

int main(void)
{
	struct lbr_selector s;
	char err[512], d[8];

	/* Forms and canonical descriptions. */
	good("10.8.0.0/16", LBR_SEL_CIDR, "10.8.0.0/16");
	good("0.0.0.0/0", LBR_SEL_CIDR, "0.0.0.0/0");
	good("10.0.0.9", LBR_SEL_CIDR, "10.0.0.9");
	good("10.0.0.9/32", LBR_SEL_CIDR, "10.0.0.9/32");
	good("2001:db8::/64", LBR_SEL_CIDR, "2001:db8::/64");
	good("2001:DB8:0::5", LBR_SEL_CIDR, "2001:db8::5");
	good("::/0", LBR_SEL_CIDR, "::/0");
	good("10.0.0.9:80", LBR_SEL_ADDRPORT, "10.0.0.9:80");
	good("[2001:db8::5]:80", LBR_SEL_ADDRPORT, "[2001:db8::5]:80");
	good("[2001:db8:0:0::5]:8080", LBR_SEL_ADDRPORT, "[2001:db8::5]:8080");
	good("name:as-*", LBR_SEL_NAME, "name:as-*");
	good("name:canary", LBR_SEL_NAME, "name:canary");
	good("instance:uhost-abc123", LBR_SEL_INSTANCE, "instance:uhost-abc123");
	good("type:ip", LBR_SEL_TYPE, "type:ip");
	good("type:instance", LBR_SEL_TYPE, "type:instance");
	good("::ffff:10.0.0.0/120", LBR_SEL_CIDR, "10.0.0.0/24");

	/* Refusals, each with its reason. */
	bad("", "empty selector");
	bad("10.8.0.0/33", "prefix length 33 is more than 32 for IPv4");
	bad("2001:db8::/129", "prefix length 129 is more than 128 for IPv6");
	bad("10.8.0.0/", "prefix length after '/' must be a number from 0 to 32");
	bad("10.8.0.0/-1", "expected a CIDR");
	bad("10.8.0.0/1a", "must be a number");
	bad("10.8.0.1/16", "did you mean 10.8.0.0/16?");
	bad("2001:db8::1/64", "did you mean 2001:db8::/64?");
	bad("::ffff:10.0.0.0/64", "at least 96");
	bad("10.0.0.300", "expected a CIDR");
	bad("10.0.0", "expected a CIDR");
	bad("host.example", "expected a CIDR");
	bad("10.0.0.9:0", "port must be a number from 1 to 65535");
	bad("10.0.0.9:65536", "port must be a number from 1 to 65535");
	bad("10.0.0.9:http", "port must be");
	bad("[2001:db8::5]", "not ADDRESS:PORT");
	bad("[2001:db8::zz]:80", "not an IPv6 address");
	bad("name:", "name: needs a pattern");
	bad("instance:", "instance: needs an id");
	bad("instance:a/b", "instance: needs an id");
	bad("type:vm", "type:ip or type:instance");
	bad("type:", "type:ip or type:instance");
	bad("colour:red", "expected a CIDR");
	bad("name:a\tb", "control characters");
	bad("web:80", "expected a CIDR");

	/* CIDR matching at the edges. */
	tap_ok(m("10.8.0.0/16", "10.8.0.0", 80, NULL, NULL, NULL) == 1,
	       "10.8.0.0/16 holds its first address");
	tap_ok(m("10.8.0.0/16", "10.8.255.255", 1, NULL, NULL, NULL) == 1,
	       "10.8.0.0/16 holds its last address");
	tap_ok(m("10.8.0.0/16", "10.9.0.0", 80, NULL, NULL, NULL) == 0,
	       "10.8.0.0/16 excludes the next network");
	tap_ok(m("10.8.0.0/16", "10.7.255.255", 80, NULL, NULL, NULL) == 0,
	       "10.8.0.0/16 excludes the previous address");
	tap_ok(m("10.0.0.0/13", "10.7.1.1", 80, NULL, NULL, NULL) == 1,
	       "a prefix that is not a byte boundary (in)");
	tap_ok(m("10.0.0.0/13", "10.8.0.0", 80, NULL, NULL, NULL) == 0,
	       "a prefix that is not a byte boundary (out)");
	tap_ok(m("0.0.0.0/0", "192.0.2.1", 80, NULL, NULL, NULL) == 1,
	       "/0 matches every IPv4 address");
	tap_ok(m("0.0.0.0/0", "2001:db8::1", 80, NULL, NULL, NULL) == 0,
	       "an IPv4 network never matches IPv6");
	tap_ok(m("10.0.0.9", "10.0.0.9", 80, NULL, NULL, NULL) == 1,
	       "a bare address matches any port (80)");
	tap_ok(m("10.0.0.9", "10.0.0.9", 8443, NULL, NULL, NULL) == 1,
	       "a bare address matches any port (8443)");
	tap_ok(m("10.0.0.9", "10.0.0.90", 80, NULL, NULL, NULL) == 0,
	       "a bare address is not a text prefix");
	tap_ok(m("2001:db8::/64", "2001:db8::ffff:1", 80, NULL, NULL, NULL) == 1, "IPv6 CIDR (in)");
	tap_ok(m("2001:db8::/64", "2001:db8:0:1::1", 80, NULL, NULL, NULL) == 0, "IPv6 CIDR (out)");
	tap_ok(m("2001:db8::5", "2001:0db8:0000::5", 80, NULL, NULL, NULL) == 1,
	       "IPv6 addresses compare as addresses, not text");
	tap_ok(m("10.0.0.0/24", "::ffff:10.0.0.7", 80, NULL, NULL, NULL) == 1,
	       "an IPv4-mapped member address matches an IPv4 network");
	tap_ok(m("10.0.0.0/24", "not-an-address", 80, NULL, NULL, NULL) == 0,
	       "a junk address matches nothing");
	tap_ok(m("10.0.0.0/24", NULL, 80, NULL, NULL, NULL) == 0, "a NULL address matches nothing");

	/* ADDRESS:PORT. */
	tap_ok(m("10.0.0.9:80", "10.0.0.9", 80, NULL, NULL, NULL) == 1,
	       "ADDRESS:PORT matches itself");
	tap_ok(m("10.0.0.9:80", "10.0.0.9", 81, NULL, NULL, NULL) == 0,
	       "ADDRESS:PORT: another port is not it");
	tap_ok(m("10.0.0.9:80", "10.0.0.8", 80, NULL, NULL, NULL) == 0,
	       "ADDRESS:PORT: another address is not it");
	tap_ok(m("[2001:db8::5]:80", "2001:db8:0::5", 80, NULL, NULL, NULL) == 1,
	       "[V6]:PORT matches");
	tap_ok(m("[2001:db8::5]:80", "2001:db8::5", 443, NULL, NULL, NULL) == 0,
	       "[V6]:PORT: another port is not it");

	/* name:GLOB (fnmatch). */
	tap_ok(m("name:as-*", "10.0.0.1", 80, "as-web-1", NULL, NULL) == 1,
	       "name:as-* matches as-web-1");
	tap_ok(m("name:as-*", "10.0.0.1", 80, "web-as-1", NULL, NULL) == 0,
	       "name:as-* is anchored");
	tap_ok(m("name:web-?", "10.0.0.1", 80, "web-7", NULL, NULL) == 1,
	       "? matches one character");
	tap_ok(m("name:web-[0-3]", "10.0.0.1", 80, "web-4", NULL, NULL) == 0,
	       "a bracket range excludes");
	tap_ok(m("name:*", "10.0.0.1", 80, NULL, NULL, NULL) == 0,
	       "a member without a name matches no name: (NULL)");
	tap_ok(m("name:*", "10.0.0.1", 80, "", NULL, NULL) == 0,
	       "a member without a name matches no name: (\"\")");
	tap_ok(m("name:Canary", "10.0.0.1", 80, "canary", NULL, NULL) == 0,
	       "name: is case-sensitive");

	/* instance:ID and type:. */
	tap_ok(m("instance:uhost-1", "10.0.0.1", 80, NULL, "uhost-1", NULL) == 1,
	       "instance: matches its id");
	tap_ok(m("instance:uhost-1", "10.0.0.1", 80, NULL, "uhost-10", NULL) == 0,
	       "instance: is exact");
	tap_ok(m("instance:uhost-1", "10.0.0.1", 80, NULL, NULL, NULL) == 0,
	       "instance: without an id matches nothing");
	tap_ok(m("type:ip", "10.0.0.1", 80, NULL, NULL, "ip") == 1, "type:ip matches ip");
	tap_ok(m("type:ip", "10.0.0.1", 80, NULL, NULL, "instance") == 0,
	       "type:ip does not match instance");
	tap_ok(m("type:instance", "10.0.0.1", 80, NULL, NULL, "instance") == 1,
	       "type:instance matches instance");
	tap_ok(m("type:ip", "10.0.0.1", 80, NULL, NULL, NULL) == 0,
	       "an unknown type matches no type:");
	/* A name: selector never matches on the address, and vice versa. */
	tap_ok(m("name:10.0.0.1", "10.0.0.1", 80, "web", NULL, NULL) == 0,
	       "name: looks at the name only");
	tap_ok(m("10.0.0.1", "10.0.0.2", 80, "10.0.0.1", NULL, NULL) == 0,
	       "an address looks at the address only");

	/* describe() never overflows. */
	lbr_selector_parse("[2001:db8::5]:80", &s, err, sizeof(err));
	lbr_selector_describe(&s, d, sizeof(d));
	tap_ok(strlen(d) == sizeof(d) - 1, "describe() truncates to the buffer ('%s')", d);
	return tap_done();
}

#include "config.h"

#include <arpa/inet.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/error.h"
#include "agent/selector.h"
#include "agent/util.h"

#define SEL_FORMS "a CIDR, an address, ADDRESS:PORT, name:GLOB, instance:ID or type:ip|instance"

/* Parse an IPv4 or IPv6 address; an IPv4-mapped IPv6 address becomes the
 * IPv4 address so that both spellings of one member match alike. */
static int addr_parse(const char *s, int *family, unsigned char *addr)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	unsigned char a6[16];

	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a6) != 1)
		return -1;
	if (!memcmp(a6, mapped, sizeof(mapped))) {
		*family = AF_INET;
		memcpy(addr, a6 + 12, 4);
	} else {
		*family = AF_INET6;
		memcpy(addr, a6, 16);
	}
	return 0;
}

/* 0 when every bit of addr after the first `prefix` is zero. */
static int host_bits_clear(const unsigned char *addr, unsigned bytes, unsigned prefix)
{
	unsigned i;

	for (i = 0; i < bytes; i++) {
		unsigned keep = prefix >= 8 * (i + 1) ? 8 : prefix > 8 * i ? prefix - 8 * i : 0;
		unsigned char mask = keep ? (unsigned char)(0xff << (8 - keep)) : 0;

		if (addr[i] & (unsigned char)~mask)
			return -1;
	}
	return 0;
}

static int prefix_match(const unsigned char *a, const unsigned char *b, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;

	if (memcmp(a, b, full))
		return 0;
	if (!rest)
		return 1;
	return !((a[full] ^ b[full]) & (unsigned char)(0xff << (8 - rest)));
}

static int parse_cidr(const char *text, struct lbr_selector *out, char *err, size_t errlen)
{
	const char *slash = strchr(text, '/');
	char host[64];
	size_t n = slash ? (size_t)(slash - text) : strlen(text);
	unsigned max, v = 0;
	const char *p;
	int mapped;

	if (n >= sizeof(host)) {
		snprintf(err, errlen, "bad selector '%s' (expected %s)", text, SEL_FORMS);
		return LBR_EINVAL;
	}
	memcpy(host, text, n);
	host[n] = '\0';
	if (addr_parse(host, &out->family, out->addr) < 0) {
		snprintf(err, errlen, "bad selector '%s' (expected %s)", text, SEL_FORMS);
		return LBR_EINVAL;
	}
	/* An IPv4-mapped address (::ffff:10.0.0.0/120) has a v6 prefix
	 * length; it is matched as IPv4, so the prefix is converted. */
	mapped = strchr(host, ':') && out->family == AF_INET;
	max = out->family == AF_INET && !mapped ? 32 : 128;
	out->kind = LBR_SEL_CIDR;
	if (!slash) {
		out->prefix = out->family == AF_INET ? 32 : 128;
		out->bare = 1;
		return 0;
	}
	p = slash + 1;
	if (!*p || strlen(p) > 3 || strspn(p, "0123456789") != strlen(p)) {
		snprintf(
			err, errlen,
			"bad selector '%s' (the prefix length after '/' must be a number from 0 to %u)",
			text, max);
		return LBR_EINVAL;
	}
	for (; *p; p++)
		v = v * 10 + (unsigned)(*p - '0');
	if (v > max) {
		snprintf(err, errlen, "bad selector '%s' (prefix length %u is more than %u for %s)",
			 text, v, max, max == 32 ? "IPv4" : "IPv6");
		return LBR_EINVAL;
	}
	if (mapped) {
		if (v < 96) {
			snprintf(
				err, errlen,
				"bad selector '%s' (an IPv4-mapped network needs a prefix length of at least 96)",
				text);
			return LBR_EINVAL;
		}
		v -= 96;
		max = 32;
	}
	out->prefix = v;
	if (host_bits_clear(out->addr, max / 8, v) < 0) {
		char net[INET6_ADDRSTRLEN];

		/* Show the network the operator probably meant. */
		memset(out->addr + v / 8 + (v % 8 != 0), 0, max / 8 - v / 8 - (v % 8 != 0));
		if (v % 8)
			out->addr[v / 8] &= (unsigned char)(0xff << (8 - v % 8));
		inet_ntop(out->family, out->addr, net, sizeof(net));
		snprintf(
			err, errlen,
			"bad selector '%s' (address bits are set after the prefix; did you mean %s%s/%u?)",
			text, mapped ? "::ffff:" : "", net, mapped ? v + 96 : v);
		return LBR_EINVAL;
	}
	return 0;
}

static int parse_addrport(const char *text, struct lbr_selector *out, char *err, size_t errlen)
{
	char addr[LBR_ADDR_MAX], why[256];

	if (lbr_addrport_parse(text, addr, &out->port, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "bad selector %s", why); /* why quotes text */
		return LBR_EINVAL;
	}
	if (addr_parse(addr, &out->family, out->addr) < 0) {
		snprintf(err, errlen, "bad selector '%s' (expected %s)", text, SEL_FORMS);
		return LBR_EINVAL;
	}
	out->kind = LBR_SEL_ADDRPORT;
	return 0;
}

static int text_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

int lbr_selector_parse(const char *text, struct lbr_selector *out, char *err, size_t errlen)
{
	const char *colon;
	unsigned char tmp[16];
	int fam;

	memset(out, 0, sizeof(*out));
	if (!text || !*text) {
		snprintf(err, errlen, "empty selector (expected %s)", SEL_FORMS);
		return LBR_EINVAL;
	}
	if (!text_ok(text) || strlen(text) >= sizeof(out->text)) {
		snprintf(err, errlen, "bad selector (control characters, or longer than %zu bytes)",
			 sizeof(out->text) - 1);
		return LBR_EINVAL;
	}
	if (!strncmp(text, "name:", 5)) {
		if (!text[5]) {
			snprintf(err, errlen,
				 "bad selector '%s' (name: needs a pattern, e.g. name:as-*)", text);
			return LBR_EINVAL;
		}
		out->kind = LBR_SEL_NAME;
		snprintf(out->text, sizeof(out->text), "%s", text + 5);
		return 0;
	}
	if (!strncmp(text, "instance:", 9)) {
		if (!lbr_id_valid(text + 9)) {
			snprintf(
				err, errlen,
				"bad selector '%s' (instance: needs an id of [A-Za-z0-9_-], at most 128)",
				text);
			return LBR_EINVAL;
		}
		out->kind = LBR_SEL_INSTANCE;
		snprintf(out->text, sizeof(out->text), "%s", text + 9);
		return 0;
	}
	if (!strncmp(text, "type:", 5)) {
		if (strcmp(text + 5, "ip") && strcmp(text + 5, "instance")) {
			snprintf(err, errlen,
				 "bad selector '%s' (type: is type:ip or type:instance)", text);
			return LBR_EINVAL;
		}
		out->kind = LBR_SEL_TYPE;
		snprintf(out->text, sizeof(out->text), "%s", text + 5);
		return 0;
	}
	if (text[0] == '[')
		return parse_addrport(text, out, err, errlen);
	/* A bare IPv6 address or CIDR has colons too: only text that is not
	 * an address, and has exactly one colon, is ADDRESS:PORT. */
	colon = strchr(text, ':');
	if (colon && !strchr(colon + 1, ':') && !strchr(text, '/') &&
	    strspn(text, "0123456789.") == (size_t)(colon - text) &&
	    addr_parse(text, &fam, tmp) < 0)
		return parse_addrport(text, out, err, errlen);
	if (text[strspn(text, "0123456789abcdefABCDEF:./")] != '\0') {
		snprintf(err, errlen, "bad selector '%s' (expected %s)", text, SEL_FORMS);
		return LBR_EINVAL;
	}
	return parse_cidr(text, out, err, errlen);
}

int lbr_selector_match(const struct lbr_selector *s, const char *address, unsigned port,
		       const char *name, const char *instance_id, const char *type)
{
	unsigned char a[16];
	int fam;

	switch (s->kind) {
	case LBR_SEL_CIDR:
	case LBR_SEL_ADDRPORT:
		if (!address || addr_parse(address, &fam, a) < 0 || fam != s->family)
			return 0;
		if (s->kind == LBR_SEL_ADDRPORT)
			return port == s->port && !memcmp(a, s->addr, fam == AF_INET ? 4 : 16);
		return prefix_match(a, s->addr, s->prefix);
	case LBR_SEL_NAME: return name && *name && fnmatch(s->text, name, 0) == 0;
	case LBR_SEL_INSTANCE: return instance_id && *instance_id && !strcmp(instance_id, s->text);
	case LBR_SEL_TYPE: return type && !strcmp(type, s->text);
	}
	return 0;
}

void lbr_selector_describe(const struct lbr_selector *s, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (!len)
		return;
	if (s->kind == LBR_SEL_CIDR || s->kind == LBR_SEL_ADDRPORT)
		inet_ntop(s->family, s->addr, a, sizeof(a));
	switch (s->kind) {
	case LBR_SEL_CIDR:
		if (s->bare)
			snprintf(buf, len, "%s", a);
		else
			snprintf(buf, len, "%s/%u", a, s->prefix);
		break;
	case LBR_SEL_ADDRPORT: lbr_addrport_fmt(a, s->port, buf, len); break;
	case LBR_SEL_NAME: snprintf(buf, len, "name:%s", s->text); break;
	case LBR_SEL_INSTANCE: snprintf(buf, len, "instance:%s", s->text); break;
	case LBR_SEL_TYPE: snprintf(buf, len, "type:%s", s->text); break;
	default: snprintf(buf, len, "(invalid selector)");
	}
}

/*
 * Fuzz target: Huawei Cloud ELB v2 and v3 responses.
 *
 * Input layout: byte 0 picks the operation and options (bits 0-2: list,
 * remove one, drain, undrain, create one, set a weight, remove three,
 * create two; bit 3: list from a marker; bit 4: transport failure; bit 5:
 * page size 2; bit 6: token instead of AK/SK; bit 7: api v3), byte 1 the
 * HTTP status, the rest is the response body.  Every input goes through
 * the parsers directly (lbr_hw_parse_error, lbr_hw_parse_members and
 * _members_v3, lbr_hw_parse_batch, lbr_hw_classify) and then through the
 * plugin's own operations with a host whose http() answers with that
 * status and body, so the request building, signing and classification
 * code runs too.
 *
 * Besides memory errors (ASan) and UB (UBSan) the target aborts when a
 * documented invariant breaks: result strings not terminated, an outcome
 * out of range, a secret copied into a result, a member count that does
 * not match the callbacks.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "huaweicloud/hwparse.h"
#include "tests/fuzz/fuzzhost.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const struct lbr_provider *lbr_provider_entry(uint32_t host_abi_major,
					      uint32_t host_abi_minor);

#define AK "FUZZAKFUZZAKFUZZAK01"
#define SK "fuzzSecretKeyMustNeverLeak0123456789abcd"
#define TOKEN "fuzzTokenMustNeverLeakMIIEXAMPLEtokenvalue"

static const long statuses[16] = { 200, 201, 204, 400, 401, 403, 404, 409,
				   429, 500, 502, 503, 504, 302, 0, 599 };

static void check_str(const char *s, size_t size)
{
	if (strnlen(s, size) >= size)
		abort();
}

/* Set per input: the response itself spelled out a secret (the fuzzer
 * learns the strings from the comparisons below), so an echo of the
 * cloud's own text is not a leak. */
static int body_has_secret;

static void check_no_secret(const char *s)
{
	if (!body_has_secret && (strstr(s, SK) || strstr(s, TOKEN)))
		abort();
}

static void check_result(const struct lbr_call_result *res)
{
	check_str(res->code, sizeof(res->code));
	check_str(res->message, sizeof(res->message));
	check_str(res->request_id, sizeof(res->request_id));
	/* The call's outcome is always set (UNSET would be a plugin that
	 * forgot); items may stay unset. */
	if ((int)res->outcome < LBR_OUT_OK || res->outcome > LBR_OUT_EXISTS)
		abort();
	check_no_secret(res->code);
	check_no_secret(res->message);
	check_no_secret(res->request_id);
}

struct count_ctx {
	size_t n;
};

static int count_member(void *ctx, const struct lbr_hw_member *m)
{
	struct count_ctx *c = ctx;

	/* The header promises a validated member. */
	if (!m->id || !m->address || m->port < 1 || m->port > 65535 ||
	    m->weight < -1 || m->weight > 100)
		abort();
	c->n++;
	return 0;
}

static void check_items(const struct lbr_item_result *it, size_t n,
			int single, const struct lbr_call_result *res)
{
	size_t i;

	for (i = 0; i < n; i++) {
		check_str(it[i].id, sizeof(it[i].id));
		check_str(it[i].message, sizeof(it[i].message));
		check_no_secret(it[i].message);
		if ((int)it[i].outcome < LBR_OUT_UNSET ||
		    it[i].outcome > LBR_OUT_EXISTS)
			abort();
		/* One request, one member: a call that worked decided its
		 * item. */
		if (single && res->outcome == LBR_OUT_OK &&
		    it[i].outcome == LBR_OUT_UNSET)
			abort();
	}
}

static void count_batch(void *ctx, const struct lbr_hw_batch_item *it)
{
	struct count_ctx *c = ctx;

	if (it->id && !it->id[0])
		abort();
	if (it->port < -1 || it->port > 65535)
		abort();
	c->n++;
}

static void direct(const char *body, size_t len, long status)
{
	struct lbr_hw_error e;
	struct count_ctx cc = { 0 };
	struct lbr_hw_page pg;
	char rid[128];
	char last[130], err[256];
	size_t count = 0;
	int r;

	r = lbr_hw_parse_error(body, len, &e);
	check_str(e.code, sizeof(e.code));
	check_str(e.message, sizeof(e.message));
	check_str(e.request_id, sizeof(e.request_id));
	/* 0 means nothing was found, so nothing may have been filled in.
	 * (The converse does not hold: {"code":""} is "found" but empty.) */
	if (r == 0 && (e.code[0] || e.message[0]))
		abort();
	(void)lbr_hw_classify(LBR_HW_OP_LIST, status, e.code);
	(void)lbr_hw_classify(LBR_HW_OP_REMOVE, status, e.code);
	(void)lbr_hw_classify(LBR_HW_OP_DRAIN, status, e.code);
	(void)lbr_hw_classify(LBR_HW_OP_CREATE, status, e.code);
	(void)lbr_hw_classify(LBR_HW_OP_BATCH, status, e.code);

	err[0] = '\0';
	r = lbr_hw_parse_members(body, len, count_member, &cc, &count, last,
				 sizeof(last), err, sizeof(err));
	check_str(err, sizeof(err));
	if (r == LBR_HW_PARSE_OK) {
		check_str(last, sizeof(last));
		if (cc.n != count)
			abort();
	} else if (cc.n != 0) {
		/* "a bad page never half-fills an observation" */
		abort();
	}

	cc.n = 0;
	r = lbr_hw_parse_members_v3(body, len, "m1", 2, count_member, &cc,
				    &pg, err, sizeof(err));
	check_str(err, sizeof(err));
	check_str(pg.next_marker, sizeof(pg.next_marker));
	if (r == LBR_HW_PARSE_OK) {
		if (cc.n != pg.count || strcmp(pg.next_marker, "m1") == 0 ||
		    (!pg.has_page_info && pg.count >= 2))
			abort();
	} else if (cc.n != 0 || pg.next_marker[0]) {
		abort();
	}

	cc.n = 0;
	r = lbr_hw_parse_batch(body, len, count_batch, &cc, rid, sizeof(rid),
			       err, sizeof(err));
	check_str(err, sizeof(err));
	check_str(rid, sizeof(rid));
	if (r != LBR_HW_PARSE_OK && cc.n != 0)
		abort();
}

static void via_plugin(uint8_t mode, long status, const char *body,
		       size_t len)
{
	const struct lbr_provider *pv = lbr_provider_entry(
		LBR_PROVIDER_ABI_MAJOR, LBR_PROVIDER_ABI_MINOR);
	struct lbr_kv cfg[7];
	size_t ncfg = 0;
	struct lbr_kv tkv[2] = {
		{ "pool_id", "5a9a3e9e-d1aa-448e-af37-a70171f2a332" },
		{ "subnet_id", "013d3059-87a4-45a5-91e9-d721068ae0b2" },
	};
	struct lbr_target t = { "web", tkv, 2, 1, NULL, 0 };
	struct lbr_member_ref m[3] = {
		{ "d4b0f2a6-8c11-4b6e-9a5e-0c2f6f0d7e11", "10.0.0.11", 80, 7, -1 },
		{ "m1", "10.0.0.12", 80, 0, -1 },
		{ "m2", "2001:db8::1", 443, 100, -1 },
	};
	struct lbr_member_spec ms[2] = {
		{ "10.0.0.11", 80, 0, "web-a", NULL },
		{ "2001:db8::1", 443, -1, NULL, NULL },
	};
	struct lbr_instance_info info;
	struct lbr_item_result items[3];
	struct lbr_call_result res;
	char err[256], next[130];
	const char *cursor = (mode & 0x08) ? "m1" : "";
	size_t n = 1;
	int weight = 0, single, v3 = (mode & 0x80) != 0;
	void *prov = NULL;

	cfg[ncfg++] = (struct lbr_kv){ "project_id",
				       "145483a5107745e9b3d80f956713e6a3" };
	cfg[ncfg++] = (struct lbr_kv){ "region", "cn-north-4" };
	cfg[ncfg++] = (struct lbr_kv){ "endpoint", "https://127.0.0.1:9443" };
	if (mode & 0x40) {
		cfg[ncfg++] = (struct lbr_kv){ "token", TOKEN };
	} else {
		cfg[ncfg++] = (struct lbr_kv){ "access_key", AK };
		cfg[ncfg++] = (struct lbr_kv){ "secret_key", SK };
	}
	/* A tiny page size makes "full page, ask for the next" reachable
	 * with short inputs. */
	if (mode & 0x20)
		cfg[ncfg++] = (struct lbr_kv){ "page_size", "2" };
	if (v3)
		cfg[ncfg++] = (struct lbr_kv){ "api", "v3" };

	memset(&info, 0, sizeof(info));
	info.struct_size = sizeof(info);
	if (pv->open(fuzz_host(), cfg, ncfg, &prov, &info, err,
		     sizeof(err)) < 0)
		abort(); /* the configuration above is valid */
	fuzz_host_set_response(status, body, len,
			       (mode & 0x10) ? LBR_ETRANSPORT : 0);
	memset(&res, 0x5a, sizeof(res)); /* the plugin must initialise it */
	memset(items, 0x5a, sizeof(items));
	switch (mode & 7) {
	case 0:
		memset(next, 0x5a, sizeof(next));
		(void)pv->list_page(prov, fuzz_call(), &t, cursor, fuzz_obs(),
				    next, sizeof(next), &res);
		check_str(next, sizeof(next));
		if (res.outcome != LBR_OUT_OK && next[0])
			abort();
		if (v3 && strcmp(next, cursor) == 0 && next[0])
			abort(); /* a marker that does not advance */
		n = 0;
		break;
	case 1:
		(void)pv->remove_members(prov, fuzz_call(), &t, m, 1, items,
					 &res);
		break;
	case 2:
	case 3:
		(void)pv->drain_members(prov, fuzz_call(), &t, m, 1,
					(mode & 7) == 2, items, &res);
		break;
	case 4:
		(void)pv->create_members(prov, fuzz_call(), &t, ms, 1, items,
					 &res);
		break;
	case 5:
		(void)pv->set_weights(prov, fuzz_call(), &t, m, &weight, 1,
				      items, &res);
		break;
	case 6:
		n = v3 ? 3 : 1;
		(void)pv->remove_members(prov, fuzz_call(), &t, m, n, items,
					 &res);
		break;
	default:
		n = v3 ? 2 : 1;
		(void)pv->create_members(prov, fuzz_call(), &t, ms, n, items,
					 &res);
		break;
	}
	check_result(&res);
	/* v2 and every v3 weight change is one request per member. */
	single = !v3 || (mode & 7) == 2 || (mode & 7) == 3 || (mode & 7) == 5;
	check_items(items, n, single, &res);
	pv->close(prov);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t mode;
	long status;
	const char *body;
	size_t len;

	if (size < 2)
		return 0;
	mode = data[0];
	status = data[1] < 16 ? statuses[data[1]] : 100 + (long)data[1] * 2;
	body = (const char *)data + 2;
	len = size - 2;
	fuzz_host_reset();
	body_has_secret = memmem(body, len, SK, strlen(SK)) ||
			  memmem(body, len, TOKEN, strlen(TOKEN));
	direct(body, len, status);
	via_plugin(mode, status, body, len);
	return 0;
}

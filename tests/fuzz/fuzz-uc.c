/*
 * Fuzz target: UCloud / SurferCloud ULB responses.
 *
 * Input layout: byte 0 picks the operation and options, byte 1 the HTTP
 * status, the rest is the response body.  Every input goes through
 * lbr_uc_parse_envelope() and, when that accepts it, lbr_uc_parse_vserver()
 * directly; then through one of the plugin's ABI 2 operations (list_page,
 * remove_members, update_rule, drain_members, create_members, set_weights)
 * with a host whose http() answers with that status and body.
 *
 * Invariants checked besides ASan/UBSan: a rejected DescribeVServer adds
 * nothing to the observation (ucparse.h promises it), result strings are
 * terminated, no secret reaches a result, outcomes are in range and never
 * LBR_OUT_UNSET (for the call and for its item), and an item only
 * succeeds when the call did.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "lbreconcile/provider.h"
#include "tests/fuzz/fuzzhost.h"
#include "ucloud/ucparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const struct lbr_provider *lbr_provider_entry(uint32_t host_abi_major,
					      uint32_t host_abi_minor);

#define PUB "fuzzPublicKeyUCloudExample0001"
#define PRIV "fuzzPrivateKeyMustNeverLeak0123456789"
#define ULB "ulb-4xq1pxnh"
#define VS "vserver-2tggsm1b"

static const long statuses[16] = { 200, 200, 200, 200, 400, 401, 403, 404,
				   429, 500, 502, 503, 504, 302, 0, 599 };

/* Set per input: the response itself spelled out the secret (the fuzzer
 * learns it from the comparison in check_result), so an echo of the
 * cloud's own message is not a leak. */
static int body_has_secret;

static void check_str(const char *s, size_t size)
{
	if (strnlen(s, size) >= size)
		abort();
}

static void check_result(const struct lbr_call_result *res)
{
	check_str(res->code, sizeof(res->code));
	check_str(res->message, sizeof(res->message));
	check_str(res->request_id, sizeof(res->request_id));
	if ((int)res->outcome < LBR_OUT_OK ||
	    (int)res->outcome >= LBR_OUTCOME_COUNT)
		abort();
	if (!body_has_secret &&
	    (strstr(res->message, PRIV) || strstr(res->code, PRIV) ||
	     strstr(res->request_id, PRIV)))
		abort();
}

/* The item of a one-member batch: always set, in range, terminated, and
 * successful only when the call is. */
static void check_item(const struct lbr_item_result *it,
		       const struct lbr_call_result *res)
{
	check_str(it->id, sizeof(it->id));
	check_str(it->message, sizeof(it->message));
	if ((int)it->outcome < LBR_OUT_OK ||
	    (int)it->outcome >= LBR_OUTCOME_COUNT)
		abort();
	if (res->outcome != LBR_OUT_OK && it->outcome == LBR_OUT_OK)
		abort();
	if (!body_has_secret &&
	    (strstr(it->message, PRIV) || strstr(it->id, PRIV)))
		abort();
}

static void direct(const char *body, size_t len)
{
	struct json_object *root = NULL;
	char msg[512], next[64], err[256];
	size_t before_m, before_r;
	long rc;
	int r;

	r = lbr_uc_parse_envelope(body, len, &root, &rc, msg, sizeof(msg));
	check_str(msg, sizeof(msg));
	if (r < 0) {
		if (root)
			abort(); /* "*root is NULL on failure" */
		return;
	}
	before_m = fuzz_host_n_members();
	before_r = fuzz_host_n_rules();
	memset(next, 0x5a, sizeof(next));
	err[0] = '\0';
	r = lbr_uc_parse_vserver(fuzz_host(), fuzz_obs(), root, ULB, VS,
				 next, sizeof(next), err, sizeof(err));
	check_str(err, sizeof(err));
	if (r == 0) {
		if (next[0])
			abort(); /* the page with the VServer is the last */
	} else if (fuzz_host_n_members() != before_m ||
		   fuzz_host_n_rules() != before_r) {
		abort(); /* a rejected response added something */
	}
	json_object_put(root);
}

static void via_plugin(uint8_t mode, long status, const char *body,
		       size_t len)
{
	const struct lbr_provider *pv = lbr_provider_entry(
		LBR_PROVIDER_ABI_MAJOR, LBR_PROVIDER_ABI_MINOR);
	const struct lbr_kv cfg[] = {
		{ "endpoint", "https://127.0.0.1:9443" },
		{ "region", "cn-bj2" },
		{ "project_id", "org-abc123" },
		{ "public_key", PUB },
		{ "private_key", PRIV },
	};
	const struct lbr_kv tkv[] = { { "ulb_id", ULB },
				      { "vserver_id", VS },
				      { "vpc_id", "uvnet-abc123" },
				      { "subnet_id", "subnet-def456" } };
	const struct lbr_member_spec spec = {
		"10.0.1.5", 8080, (mode & 0x20) ? 10 : -1, NULL,
		(mode & 0x08) ? NULL : "uhost-k2f0pzvd",
	};
	const struct lbr_target t = { .pool_name = "api", .kv = tkv, .n = 4,
				      .create = 1, .members = &spec,
				      .n_members = 1 };
	const struct lbr_member_ref m = { "backend-aaaa0001", "10.0.1.5", 8080,
					  (mode & 0x20) ? 10 : -1,
					  (mode & 0x40) ? 0 : -1 };
	const struct lbr_kv attrs[] = { { "Type", "Path" },
					{ "Match", "/api" },
					{ "PolicyPriority", "3" } };
	const struct lbr_rule_ref rule = { "policy-0001", attrs, 3 };
	const char *const keep[] = { "backend-aaaa0002", "backend-aaaa0003" };
	struct lbr_instance_info info = { .struct_size = sizeof(info) };
	struct lbr_item_result item;
	struct lbr_call_result res;
	char err[256], next[64];
	int weight = (mode & 0x20) ? 100 : 1, has_item = 1;
	const char *cursor = "";
	void *prov = NULL;

	if (pv->open(fuzz_host(), cfg, 5, &prov, &info, err, sizeof(err)) < 0 ||
	    pv->check_target(prov, &t, err, sizeof(err)) < 0)
		abort(); /* the configuration above is valid */
	fuzz_host_set_response(status, body, len,
			       !(mode & 0x10) ? 0 :
			       (mode & 0x40) ? LBR_EFATAL : LBR_ETRANSPORT);
	memset(&res, 0x5a, sizeof(res));
	memset(&item, 0x5a, sizeof(item));
	switch (mode & 7) {
	case 0:
	case 5:
		switch ((mode >> 3) & 1) {
		case 1:
			cursor = (mode & 0x80) ? "100" : "-1";
			break;
		default:
			break;
		}
		memset(next, 0x5a, sizeof(next));
		(void)pv->list_page(prov, fuzz_call(), &t, cursor, fuzz_obs(),
				    next, sizeof(next), &res);
		check_str(next, sizeof(next));
		has_item = 0;
		break;
	case 1:
		(void)pv->remove_members(prov, fuzz_call(), &t, &m, 1, &item,
					 &res);
		break;
	case 2:
		(void)pv->update_rule(prov, fuzz_call(), &t, &rule, keep,
				      (mode & 0x80) ? 1 : 2, &res);
		has_item = 0;
		break;
	case 3:
		(void)pv->drain_members(prov, fuzz_call(), &t, &m, 1, 1, &item,
					&res);
		break;
	case 4:
		(void)pv->drain_members(prov, fuzz_call(), &t, &m, 1, 0, &item,
					&res);
		break;
	case 6:
		(void)pv->create_members(prov, fuzz_call(), &t, &spec, 1, &item,
					 &res);
		break;
	default:
		(void)pv->set_weights(prov, fuzz_call(), &t, &m, &weight, 1,
				      &item, &res);
		break;
	}
	check_result(&res);
	if (has_item)
		check_item(&item, &res);
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
	body_has_secret = memmem(body, len, PRIV, strlen(PRIV)) != NULL;
	direct(body, len);
	via_plugin(mode, status, body, len);
	return 0;
}

/*
 * Unit test of the huaweicloud provider plugin, driven through the mock
 * host: configuration checks, the exact requests of every operation
 * (URL, headers, body, a signature recomputed independently of the
 * plugin's request code), paging, the parsing of every documented error
 * body, the classification table, and that no secret ever reaches a
 * result message or a log line.
 */
#include "config.h"

#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwparse.h"
#include "hwsign.h"
#include "common/provcommon.h"
#include "lbreconcile/provider.h"
#include "tests/unit/mockhost.h"
#include "tests/unit/tap.h"

#define PROJ "145483a5107745e9b3d80f956713e6a3"
#define POOL "5a9a3e9e-d1aa-448e-af37-a70171f2a332"
#define M1 "0a1b2c3d-0000-4000-8000-000000000001"
#define M2 "0a1b2c3d-0000-4000-8000-000000000002"
#define M3 "0a1b2c3d-0000-4000-8000-000000000003"
#define AK "AKIDTESTHW0000000001"
#define SK "sk-Very-Secret-Value-0123456789"
#define TOKEN "tok-MIIsecretTOKENvalue-xyz"
#define NOW 1715592615 /* 20240513T093015Z */
#define RID_HDR "X-Request-Id: 0123456789abcdef0123456789abcdef"

const struct lbr_provider *lbr_provider_entry(uint32_t, uint32_t);

static const struct lbr_kv pool_kv[] = { { "pool_id", POOL } };
static const struct lbr_target target = { "web", pool_kv, 1, 0, NULL, 0 };
#define target_ref target

static const struct lbr_provider *P;
static struct lbr_instance_info last_info;
static struct lbr_item_result last_item;

/* Outcome as the core sees it for a one-item call: the item's when the
 * call worked, else the call's. */
static enum lbr_outcome effective(const struct lbr_call_result *res)
{
	return res->outcome == LBR_OUT_OK ? last_item.outcome : res->outcome;
}

static int rm1(void *prov, const struct lbr_member_ref *m, struct lbr_call_result *res)
{
	memset(&last_item, 0x5a, sizeof(last_item));
	return P->remove_members(prov, mock_call(), &target_ref, m, 1, &last_item, res);
}

static int drain1(void *prov, const struct lbr_member_ref *m, int drain,
		  struct lbr_call_result *res)
{
	memset(&last_item, 0x5a, sizeof(last_item));
	return P->drain_members(prov, mock_call(), &target_ref, m, 1, drain, &last_item, res);
}

/* Fail if a secret is in the result or in the plugin's last log line. */
static void check_no_secret(const struct lbr_call_result *res, const char *what)
{
	const char *secrets[] = { SK, TOKEN, AK };
	const char *log = mock_last_log();
	size_t i;
	int clean = 1;

	for (i = 0; i < 3; i++) {
		if (strstr(res->message, secrets[i]) || strstr(res->code, secrets[i]) ||
		    strstr(res->request_id, secrets[i]) || (log && strstr(log, secrets[i])))
			clean = 0;
	}
	tap_ok(clean, "%s: no secret in result or log", what);
}

static void *open_ok(const struct lbr_kv *cfg, size_t n)
{
	char err[256] = "";
	void *prov = NULL;
	int r;

	memset(&last_info, 0, sizeof(last_info));
	last_info.struct_size = sizeof(last_info);
	r = P->open(mock_host(), cfg, n, &prov, &last_info, err, sizeof(err));

	if (r < 0)
		printf("# open failed: %s\n", err);
	return prov;
}

static void *open_aksk(const char *endpoint, const char *page_size)
{
	struct lbr_kv cfg[6];
	size_t n = 0;

	cfg[n++] = (struct lbr_kv){ "project_id", PROJ };
	cfg[n++] = (struct lbr_kv){ "access_key", AK };
	cfg[n++] = (struct lbr_kv){ "secret_key", SK };
	if (endpoint)
		cfg[n++] = (struct lbr_kv){ "endpoint", endpoint };
	else
		cfg[n++] = (struct lbr_kv){ "region", "cn-north-4" };
	if (page_size)
		cfg[n++] = (struct lbr_kv){ "page_size", page_size };
	return open_ok(cfg, n);
}

static void test_entry(void)
{
	const struct lbr_key_spec *k;
	int have_pool_id = 0, n_secret = 0;
	const char *dir = getenv("LBR_TEST_PLUGIN_DIR");

	P = lbr_provider_entry(LBR_PROVIDER_ABI_MAJOR, LBR_PROVIDER_ABI_MINOR);
	tap_ok(P != NULL, "entry returns a table");
	tap_is_str(P->name, "huaweicloud", "name");
	tap_is_int(P->abi_major, 2, "abi major");
	tap_is_int(P->abi_minor, 0, "abi minor");
	tap_is_int(P->struct_size, sizeof(struct lbr_provider), "struct size");
	tap_ok(P->caps == (LBR_CAP_DRAIN | LBR_CAP_CREATE | LBR_CAP_WEIGHT | LBR_CAP_COOPERATIVE),
	       "caps = drain + create + weight + cooperative");
	tap_ok(P->drain_members && P->list_page && P->remove_members && P->create_members &&
		       P->set_weights && P->open && P->close && P->check_target && !P->update_rule,
	       "operations present, update_rule absent");
	for (k = P->pool_keys; k->name; k++)
		if (strcmp(k->name, "pool_id") == 0 && k->flags == (LBR_KEY_REQUIRED | LBR_KEY_ID))
			have_pool_id = 1;
	tap_ok(have_pool_id, "pool_id is a required id key");
	for (k = P->provider_keys; k->name; k++)
		if (k->flags & LBR_KEY_SECRET)
			n_secret++;
	tap_is_int(n_secret, 3, "access_key, secret_key, token are secret");

	/* The installed shape: only the entry symbol is visible. */
	if (dir && *dir) {
		char path[1024];
		void *h;

		snprintf(path, sizeof(path), "%s/huaweicloud.so", dir);
		h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		tap_ok(h != NULL, "plugin .so loads (%s)", h ? path : dlerror());
		if (h) {
			lbr_provider_entry_fn fn;

			*(void **)&fn = dlsym(h, LBR_PROVIDER_ENTRY);
			tap_ok(fn && strcmp(fn(2, 0)->name, "huaweicloud") == 0,
			       ".so exports lbr_provider_entry");
			tap_ok(!dlsym(h, "lbr_hw_sign") && !dlsym(h, "lbr_hw_parse_error"),
			       ".so hides its internal functions");
			dlclose(h);
		}
	}
}

struct bad_cfg {
	const char *what;
	struct lbr_kv kv[6];
	size_t n;
	const char *must_say; /* substring of the error */
};

static void test_open_errors(void)
{
	static const struct bad_cfg bad[] = {
		{ "no project_id",
		  { { "region", "cn-north-4" }, { "token", TOKEN } },
		  2,
		  "project_id" },
		{ "bad project_id",
		  { { "project_id", "a/b" }, { "region", "r" }, { "token", TOKEN } },
		  3,
		  "project_id" },
		{ "no credentials",
		  { { "project_id", PROJ }, { "region", "r" } },
		  2,
		  "access_key and secret_key, or token" },
		{ "access_key alone",
		  { { "project_id", PROJ }, { "region", "r" }, { "access_key", AK } },
		  3,
		  "secret_key" },
		{ "secret_key alone",
		  { { "project_id", PROJ }, { "region", "r" }, { "secret_key", SK } },
		  3,
		  "access_key" },
		{ "both methods",
		  { { "project_id", PROJ },
		    { "region", "r" },
		    { "access_key", AK },
		    { "secret_key", SK },
		    { "token", TOKEN } },
		  5,
		  "not both" },
		{ "no region nor endpoint",
		  { { "project_id", PROJ }, { "token", TOKEN } },
		  2,
		  "region" },
		{ "bad region",
		  { { "project_id", PROJ }, { "region", "cn north/4" }, { "token", TOKEN } },
		  3,
		  "region" },
		{ "endpoint with a path",
		  { { "project_id", PROJ },
		    { "endpoint", "https://h.example/v2" },
		    { "token", TOKEN } },
		  3,
		  "no path" },
		{ "endpoint with a query",
		  { { "project_id", PROJ },
		    { "endpoint", "https://h.example?x" },
		    { "token", TOKEN } },
		  3,
		  "no path" },
		{ "endpoint not http(s)",
		  { { "project_id", PROJ }, { "endpoint", "ftp://h.example" }, { "token", TOKEN } },
		  3,
		  "https://" },
		{ "endpoint port out of range",
		  { { "project_id", PROJ },
		    { "endpoint", "https://h.example:70000" },
		    { "token", TOKEN } },
		  3,
		  "port" },
		{ "endpoint with empty port",
		  { { "project_id", PROJ },
		    { "endpoint", "https://h.example:" },
		    { "token", TOKEN } },
		  3,
		  "port" },
		{ "endpoint with user info",
		  { { "project_id", PROJ },
		    { "endpoint", "https://u:" SK "@h.example" },
		    { "token", TOKEN } },
		  3,
		  "user information" },
		{ "endpoint without host",
		  { { "project_id", PROJ }, { "endpoint", "https://" }, { "token", TOKEN } },
		  3,
		  "host" },
		{ "page_size 0",
		  { { "project_id", PROJ },
		    { "region", "r" },
		    { "token", TOKEN },
		    { "page_size", "0" } },
		  4,
		  "page_size" },
		{ "page_size 2001",
		  { { "project_id", PROJ },
		    { "region", "r" },
		    { "token", TOKEN },
		    { "page_size", "2001" } },
		  4,
		  "1..2000" },
		{ "page_size not a number",
		  { { "project_id", PROJ },
		    { "region", "r" },
		    { "token", TOKEN },
		    { "page_size", "12x" } },
		  4,
		  "page_size" },
		{ "unknown key",
		  { { "project_id", PROJ },
		    { "region", "r" },
		    { "token", TOKEN },
		    { "regoin", "r" } },
		  4,
		  "regoin" },
		{ "duplicate key",
		  { { "project_id", PROJ },
		    { "region", "r" },
		    { "token", TOKEN },
		    { "region", "r2" } },
		  4,
		  "more than once" },
		{ "empty secret",
		  { { "project_id", PROJ }, { "region", "r" }, { "token", "" } },
		  3,
		  "'token' is empty" },
		{ "api v1",
		  { { "project_id", PROJ }, { "region", "r" }, { "token", TOKEN }, { "api", "v1" } },
		  4,
		  "api 'v1' must be v2 or v3" },
		{ "api V3 (case)",
		  { { "project_id", PROJ }, { "region", "r" }, { "token", TOKEN }, { "api", "V3" } },
		  4,
		  "v2 or v3" },
		{ "timeout is the core's",
		  { { "project_id", PROJ },
		    { "region", "r" },
		    { "token", TOKEN },
		    { "timeout", "5" } },
		  4,
		  "unknown key 'timeout'" },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[256] = "";
		void *prov = (void *)1;
		struct lbr_instance_info info = { .struct_size = sizeof(info) };
		int r = P->open(mock_host(), bad[i].kv, bad[i].n, &prov, &info, err, sizeof(err));

		tap_ok(r < 0 && prov == NULL, "open refuses: %s", bad[i].what);
		tap_ok(strstr(err, bad[i].must_say) != NULL, "%s: error says '%s' (got '%s')",
		       bad[i].what, bad[i].must_say, err);
		tap_ok(!strstr(err, SK) && !strstr(err, TOKEN), "%s: error holds no secret",
		       bad[i].what);
	}

	/* Keys the core handles itself are neither declared nor passed. */
	{
		const struct lbr_key_spec *k;
		int core_key = 0;

		for (k = P->provider_keys; k->name; k++)
			core_key |= !strcmp(k->name, "ca_file") ||
				    !strcmp(k->name, "allow_insecure_http") ||
				    !strcmp(k->name, "timeout");
		tap_ok(!core_key, "core keys are not in the plugin's list");
	}
	P->close(NULL);
	tap_ok(1, "close(NULL) is a no-op");
}

static void test_check_target(void)
{
	static const struct lbr_kv bad_kv[] = { { "pool_id", "x/../y" } };
	static const struct lbr_kv no_kv[] = { { "member", "1.2.3.4:80" } };
	struct lbr_target t;
	char err[256];

	tap_is_int(P->check_target(NULL, &target, err, sizeof(err)), 0,
		   "check_target accepts a valid pool_id");
	t = (struct lbr_target){ "web", bad_kv, 1, 0, NULL, 0 };
	err[0] = '\0';
	tap_ok(P->check_target(NULL, &t, err, sizeof(err)) < 0 && strstr(err, "pool_id"),
	       "check_target refuses a malformed pool_id (%s)", err);
	t = (struct lbr_target){ "web", no_kv, 1, 0, NULL, 0 };
	err[0] = '\0';
	tap_ok(P->check_target(NULL, &t, err, sizeof(err)) < 0 && strstr(err, "missing"),
	       "check_target refuses a missing pool_id (%s)", err);
}

/* Recompute the signature of request i from what the test expects the
 * request to be, and compare with the Authorization header sent. */
static void verify_signature(size_t i, const char *method, const char *host, const char *path,
			     const struct lbr_kv *q, size_t nq, const char *body, const char *what)
{
	struct lbr_kv hdrs[4];
	struct lbr_hw_sign_input in = { 0 };
	struct lbr_hw_signature sig;
	const char *date = mock_request_header(i, "X-Sdk-Date");
	const char *auth = mock_request_header(i, "Authorization");
	size_t n = 0;

	if (body)
		hdrs[n++] = (struct lbr_kv){ "content-type", "application/json" };
	hdrs[n++] = (struct lbr_kv){ "host", host };
	hdrs[n++] = (struct lbr_kv){ "x-project-id", PROJ };
	hdrs[n++] = (struct lbr_kv){ "x-sdk-date", date ? date : "" };
	in.method = method;
	in.path = path;
	in.query = q;
	in.n_query = nq;
	in.headers = hdrs;
	in.n_headers = n;
	in.body = body;
	in.body_len = body ? strlen(body) : 0;
	in.access_key = AK;
	in.secret_key = SK;
	in.date = date;
	if (lbr_hw_sign(mock_host(), &in, &sig) < 0) {
		tap_ok(0, "%s: recompute signature", what);
		return;
	}
	tap_is_str(auth, sig.authorization, "%s: Authorization verifies", what);
	lbr_hw_signature_release(&sig);
}

static void test_list_request(void)
{
	static const char *const hdrs[] = { RID_HDR, NULL };
	struct lbr_call_result res;
	struct lbr_kv q[] = { { "limit", "2000" } };
	char next[200];
	void *prov;
	const struct mock_request *rq;

	/* Default endpoint from the region. */
	mock_reset();
	mock_set_now(NOW);
	prov = open_aksk(NULL, NULL);
	tap_ok(prov != NULL, "open with AK/SK and region");
	mock_push_response(200, "{\"members\":[]}", hdrs);
	strcpy(next, "junk");
	tap_is_int(P->list_page(prov, mock_call(), &target, "", mock_obs(), next, sizeof(next),
				&res),
		   0, "list_page returns 0");
	tap_is_int(res.outcome, LBR_OUT_OK, "empty page is OK");
	tap_is_str(next, "", "empty page is the last one");
	tap_is_int(res.http_status, 200, "http status recorded");
	tap_is_str(res.request_id, "0123456789abcdef0123456789abcdef",
		   "request id from X-Request-Id");
	tap_is_int(mock_n_requests(), 1, "one request");
	rq = mock_request_at(0);
	tap_is_str(rq->method, "GET", "list: method");
	tap_is_str(rq->url,
		   "https://elb.cn-north-4.myhuaweicloud.com/v2/" PROJ "/elb/pools/" POOL
		   "/members?limit=2000",
		   "list: URL with default endpoint and limit only");
	tap_ok(rq->body == NULL, "list: no body");
	tap_is_str(mock_request_header(0, "X-Sdk-Date"), "20240513T093015Z",
		   "list: X-Sdk-Date from host->now()");
	tap_is_str(mock_request_header(0, "X-Project-Id"), PROJ, "list: X-Project-Id");
	tap_is_str(mock_request_header(0, "Accept"), "application/json", "list: Accept");
	tap_ok(!mock_request_header(0, "Content-Type"), "list: no Content-Type without a body");
	tap_ok(!mock_request_header(0, "X-Auth-Token"), "list: no token header with AK/SK");
	tap_ok(!mock_request_header(0, "Host"), "list: Host left to the transport");
	{
		const char *a = mock_request_header(0, "Authorization");

		tap_ok(a && strncmp(a,
				    "SDK-HMAC-SHA256 Access=" AK
				    ", SignedHeaders=host;x-project-id;"
				    "x-sdk-date, Signature=",
				    strlen("SDK-HMAC-SHA256 Access=" AK
					   ", SignedHeaders=host;x-project-"
					   "id;x-sdk-date, Signature=")) == 0,
		       "list: Authorization shape and signed headers");
	}
	verify_signature(0, "GET", "elb.cn-north-4.myhuaweicloud.com",
			 "/v2/" PROJ "/elb/pools/" POOL "/members", q, 1, NULL, "list");
	check_no_secret(&res, "list ok");
	P->close(prov);

	/* An explicit default port is dropped from URL and signed host,
	 * matching the Host header libcurl sends. */
	mock_reset();
	mock_set_now(NOW);
	prov = open_aksk("https://ELB.example.test:443/", NULL);
	mock_push_response(200, "{\"members\":[]}", NULL);
	P->list_page(prov, mock_call(), &target, "", mock_obs(), next, sizeof(next), &res);
	tap_is_str(mock_request_at(0)->url,
		   "https://ELB.example.test/v2/" PROJ "/elb/pools/" POOL "/members?limit=2000",
		   "default port 443 and trailing slash dropped");
	verify_signature(0, "GET", "ELB.example.test", "/v2/" PROJ "/elb/pools/" POOL "/members", q,
			 1, NULL, "port 443");
	tap_is_str(res.request_id, "", "no request id when none sent");
	P->close(prov);

	/* A non-default port is kept in both. */
	mock_reset();
	mock_set_now(NOW);
	prov = open_aksk("http://127.0.0.1:8443", NULL);
	mock_push_response(200, "{\"members\":[]}", NULL);
	P->list_page(prov, mock_call(), &target, "", mock_obs(), next, sizeof(next), &res);
	tap_is_str(mock_request_at(0)->url,
		   "http://127.0.0.1:8443/v2/" PROJ "/elb/pools/" POOL "/members?limit=2000",
		   "http endpoint with port");
	verify_signature(0, "GET", "127.0.0.1:8443", "/v2/" PROJ "/elb/pools/" POOL "/members", q,
			 1, NULL, "port 8443");
	P->close(prov);

	mock_reset();
	mock_set_now(NOW);
	prov = open_aksk("http://[::1]:9000", NULL);
	tap_ok(prov != NULL, "IPv6 literal endpoint accepted");
	mock_push_response(200, "{\"members\":[]}", NULL);
	P->list_page(prov, mock_call(), &target, "", mock_obs(), next, sizeof(next), &res);
	tap_is_str(mock_request_at(0)->url,
		   "http://[::1]:9000/v2/" PROJ "/elb/pools/" POOL "/members?limit=2000",
		   "IPv6 endpoint URL");
	verify_signature(0, "GET", "[::1]:9000", "/v2/" PROJ "/elb/pools/" POOL "/members", q, 1,
			 NULL, "IPv6");
	P->close(prov);
}

static void test_paging(void)
{
	struct lbr_call_result res;
	struct lbr_kv q2[] = { { "limit", "2" }, { "marker", M2 } };
	char next[200];
	const struct mock_member *m;
	void *prov;

	mock_reset();
	mock_set_now(NOW);
	prov = open_aksk("https://elb.example.test", "2");
	tap_ok(prov != NULL, "open with page_size 2");

	mock_push_response(200,
			   "{\"members\":[{\"id\":\"" M1 "\",\"address\":"
			   "\"10.0.0.11\",\"protocol_port\":80,\"weight\":1,"
			   "\"admin_state_up\":true,\"name\":\"\"},"
			   "{\"id\":\"" M2 "\",\"address\":\"2001:db8::5\","
			   "\"protocol_port\":8080,\"weight\":0}]}",
			   NULL);
	P->list_page(prov, mock_call(), &target, "", mock_obs(), next, sizeof(next), &res);
	tap_is_int(res.outcome, LBR_OUT_OK, "page 1 OK");
	tap_is_str(next, M2, "full page: cursor = last id");
	tap_is_str(mock_request_at(0)->url,
		   "https://elb.example.test/v2/" PROJ "/elb/pools/" POOL "/members?limit=2",
		   "page 1 URL: limit only");
	tap_is_int(mock_n_members(), 2, "page 1: two members observed");
	m = mock_member_at(0);
	tap_ok(m && strcmp(m->id, M1) == 0 && strcmp(m->address, "10.0.0.11") == 0 &&
		       m->port == 80 && m->weight == 1 && m->enabled == -1,
	       "member 1: id, address, port, weight, enabled unknown");
	m = mock_member_at(1);
	tap_ok(m && strcmp(m->address, "2001:db8::5") == 0 && m->port == 8080 && m->weight == 0,
	       "member 2: IPv6 address, weight 0");

	mock_push_response(200,
			   "{\"members\":[{\"id\":\"" M3 "\",\"address\":"
			   "\"10.0.0.13\",\"protocol_port\":443}]}",
			   NULL);
	P->list_page(prov, mock_call(), &target, next, mock_obs(), next, sizeof(next), &res);
	tap_is_int(res.outcome, LBR_OUT_OK, "page 2 OK");
	tap_is_str(next, "", "short page: last page");
	tap_is_str(mock_request_at(1)->url,
		   "https://elb.example.test/v2/" PROJ "/elb/pools/" POOL
		   "/members?limit=2&marker=" M2,
		   "page 2 URL: limit and marker, sorted as signed");
	verify_signature(1, "GET", "elb.example.test", "/v2/" PROJ "/elb/pools/" POOL "/members",
			 q2, 2, NULL, "page 2");
	tap_is_int(mock_n_members(), 3, "three members in all");
	tap_is_int(mock_member_at(2)->weight, -1, "absent weight is unknown (-1)");

	/* A server that ignores the marker returns the same page again. */
	mock_push_response(200,
			   "{\"members\":[{\"id\":\"" M1 "\",\"address\":"
			   "\"10.0.0.11\",\"protocol_port\":80},"
			   "{\"id\":\"" M2 "\",\"address\":\"10.0.0.12\","
			   "\"protocol_port\":80}]}",
			   NULL);
	strcpy(next, "x");
	P->list_page(prov, mock_call(), &target, M2, mock_obs(), next, sizeof(next), &res);
	tap_is_int(res.outcome, LBR_OUT_INVALID, "page ending at the marker again is refused");
	tap_ok(strstr(res.message, "did not advance") != NULL,
	       "message says paging did not advance (%s)", res.message);
	tap_is_str(next, "", "no cursor on failure");

	/* A malformed cursor is never sent. */
	{
		size_t before = mock_n_requests();

		P->list_page(prov, mock_call(), &target, "a&b=c", mock_obs(), next, sizeof(next),
			     &res);
		tap_is_int(res.outcome, LBR_OUT_INVALID, "malformed cursor refused");
		tap_is_int(mock_n_requests(), before, "no request with a malformed cursor");
	}
	P->close(prov);
}

struct bad_page {
	const char *what;
	const char *body;
	enum lbr_outcome want;
	const char *must_say;
};

static void test_bad_pages(void)
{
	static const struct bad_page pages[] = {
		{ "truncated JSON", "{\"members\":[{\"id\":\"" M1 "\",\"addr", LBR_OUT_TRANSIENT,
		  "response is not valid JSON (truncated?)" },
		{ "empty body", "", LBR_OUT_TRANSIENT, "not valid JSON" },
		{ "HTML", "<html>oops</html>", LBR_OUT_TRANSIENT, "not valid JSON" },
		{ "trailing garbage", "{\"members\":[]} x", LBR_OUT_TRANSIENT, "not valid JSON" },
		{ "array", "[]", LBR_OUT_INVALID, "not a JSON object" },
		{ "no members", "{\"pools\":[]}", LBR_OUT_INVALID, "no \"members\" array" },
		{ "members not an array", "{\"members\":{}}", LBR_OUT_INVALID,
		  "no \"members\" array" },
		{ "member not an object", "{\"members\":[1]}", LBR_OUT_INVALID,
		  "member 0 is not a JSON object" },
		{ "no id",
		  "{\"members\":[{\"address\":\"10.0.0.1\","
		  "\"protocol_port\":80}]}",
		  LBR_OUT_INVALID, "no string \"id\"" },
		{ "malformed id",
		  "{\"members\":[{\"id\":\"../x\",\"address\":\"10.0.0.1\","
		  "\"protocol_port\":80}]}",
		  LBR_OUT_INVALID, "malformed id" },
		{ "no address", "{\"members\":[{\"id\":\"" M1 "\",\"protocol_port\":80}]}",
		  LBR_OUT_INVALID, "no string \"address\"" },
		{ "no port", "{\"members\":[{\"id\":\"" M1 "\",\"address\":\"10.0.0.1\"}]}",
		  LBR_OUT_INVALID, "no integer \"protocol_port\"" },
		{ "port as string",
		  "{\"members\":[{\"id\":\"" M1 "\",\"address\":\"10.0.0.1\","
		  "\"protocol_port\":\"80\"}]}",
		  LBR_OUT_INVALID, "no integer \"protocol_port\"" },
		{ "port 0",
		  "{\"members\":[{\"id\":\"" M1 "\",\"address\":\"10.0.0.1\","
		  "\"protocol_port\":0}]}",
		  LBR_OUT_INVALID, "out of range" },
		{ "port 65536",
		  "{\"members\":[{\"id\":\"" M1 "\",\"address\":\"10.0.0.1\","
		  "\"protocol_port\":65536}]}",
		  LBR_OUT_INVALID, "protocol_port 65536 out of range" },
		{ "second member bad",
		  "{\"members\":[{\"id\":\"" M1 "\",\"address\":\"10.0.0.1\","
		  "\"protocol_port\":80},{\"id\":\"" M2 "\"}]}",
		  LBR_OUT_INVALID, "member " M2 " has no string \"address\"" },
	};
	struct lbr_call_result res;
	char next[200];
	void *prov;
	size_t i;

	mock_reset();
	mock_set_now(NOW);
	prov = open_aksk("https://elb.example.test", NULL);
	for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		size_t before = mock_n_members();

		mock_push_response(200, pages[i].body, NULL);
		strcpy(next, "x");
		tap_is_int(P->list_page(prov, mock_call(), &target, "", mock_obs(), next,
					sizeof(next), &res),
			   0, "%s: list_page returns 0", pages[i].what);
		tap_is_int(res.outcome, pages[i].want, "%s: outcome", pages[i].what);
		tap_ok(strstr(res.message, pages[i].must_say) &&
			       strncmp(res.message, "pool web: ", 10) == 0,
		       "%s: message names the pool and says '%s' (got '%s')", pages[i].what,
		       pages[i].must_say, res.message);
		tap_is_int(mock_n_members(), before, "%s: nothing observed from a bad page",
			   pages[i].what);
		tap_is_str(next, "", "%s: no cursor", pages[i].what);
	}

	/* The host rejects an id (or runs out of memory). */
	mock_set_obs_fail(1);
	mock_push_response(200,
			   "{\"members\":[{\"id\":\"" M1 "\",\"address\":"
			   "\"10.0.0.1\",\"protocol_port\":80}]}",
			   NULL);
	P->list_page(prov, mock_call(), &target, "", mock_obs(), next, sizeof(next), &res);
	tap_is_int(res.outcome, LBR_OUT_INVALID, "member rejected by the host: INVALID");
	tap_ok(strstr(res.message, "rejected") != NULL, "message says rejected (%s)", res.message);
	mock_set_obs_fail(0);
	P->close(prov);
}

struct err_shape {
	const char *what;
	long status;
	const char *body;
	const char *code;
	const char *message;
	const char *request_id; /* from the body when no header */
};

static void test_error_shapes(void)
{
	static const struct err_shape shapes[] = {
		{ "gateway", 401,
		  "{\"error_msg\":\"Incorrect IAM authentication "
		  "information: x-auth-token not found\",\"error_code\":"
		  "\"APIGW.0301\",\"request_id\":\"aaaabbbbccccdddd\"}",
		  "APIGW.0301",
		  "Incorrect IAM authentication information: x-auth-token "
		  "not found",
		  "aaaabbbbccccdddd" },
		{ "ELB v2", 400,
		  "{\"error\":{\"message\":\"Invalid parameter.\",\"code\":"
		  "\"ELB.9899\"}}",
		  "ELB.9899", "Invalid parameter.", "" },
		{ "top-level code/message", 400,
		  "{\"code\":\"ELB.1001\",\"message\":\"Request parameters "
		  "invalid.\"}",
		  "ELB.1001", "Request parameters invalid.", "" },
		{ "NeutronError", 400,
		  "{\"NeutronError\":{\"type\":\"HTTPBadRequest\","
		  "\"message\":\"The resource could not be found.\","
		  "\"detail\":\"\"}}",
		  "HTTPBadRequest", "The resource could not be found.", "" },
		{ "v3", 400,
		  "{\"error_msg\":\"Unrecognized attribute(s) 'x'\","
		  "\"error_code\":\"ELB.8902\",\"request_id\":\"1d7f\"}",
		  "ELB.8902", "Unrecognized attribute(s) 'x'", "1d7f" },
		{ "generic template", 400,
		  "{\"error_msg\":\"The format of message is error\","
		  "\"error_code\":\"AS.0001\"}",
		  "AS.0001", "The format of message is error", "" },
	};
	struct lbr_call_result res;
	struct lbr_member_ref m = { M1, "10.0.0.1", 80, 1, -1 };
	void *prov;
	size_t i;

	mock_reset();
	mock_set_now(NOW);
	prov = open_aksk("https://elb.example.test", NULL);
	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		mock_push_response(shapes[i].status, shapes[i].body, NULL);
		rm1(prov, &m, &res);
		tap_is_str(res.code, shapes[i].code, "%s shape: code", shapes[i].what);
		tap_ok(strstr(res.message, shapes[i].message) != NULL,
		       "%s shape: message (got '%s')", shapes[i].what, res.message);
		tap_is_str(res.request_id, shapes[i].request_id, "%s shape: request id",
			   shapes[i].what);
		tap_is_int(res.http_status, shapes[i].status, "%s shape: status", shapes[i].what);
	}

	/* The header wins over the body for the request id. */
	{
		static const char *const h[] = { RID_HDR, NULL };

		mock_push_response(401, shapes[0].body, h);
		rm1(prov, &m, &res);
		tap_is_str(res.request_id, "0123456789abcdef0123456789abcdef",
			   "X-Request-Id header preferred over body");
	}
	/* Not JSON at all: a diagnosis instead of the body. */
	mock_push_response(502, "<html>Bad Gateway</html>", NULL);
	rm1(prov, &m, &res);
	tap_is_int(res.outcome, LBR_OUT_TRANSIENT, "502 HTML: transient");
	tap_is_str(res.code, "", "502 HTML: no code");
	tap_ok(strstr(res.message, "HTTP 502") != NULL, "502 HTML: message names the status (%s)",
	       res.message);
	P->close(prov);
}

struct class_row {
	int op; /* 0 list, 1 remove, 2 drain */
	long status;
	const char *code;
	enum lbr_outcome want;
};

static void test_classification(void)
{
	static const struct class_row rows[] = {
		{ 1, 204, NULL, LBR_OUT_OK },
		{ 1, 200, NULL, LBR_OUT_OK },
		{ 1, 404, "ELB.9800", LBR_OUT_NOT_FOUND },
		{ 1, 404, NULL, LBR_OUT_NOT_FOUND },
		{ 1, 404, "APIGW.0101", LBR_OUT_INVALID },
		{ 1, 400, "ELB.2012", LBR_OUT_NOT_FOUND },
		{ 1, 400, "ELB.9800", LBR_OUT_NOT_FOUND },
		{ 2, 400, "ELB.9800", LBR_OUT_NOT_FOUND },
		{ 0, 400, "ELB.9800", LBR_OUT_INVALID },
		{ 0, 404, "ELB.9800", LBR_OUT_INVALID },
		{ 0, 404, "APIGW.0101", LBR_OUT_INVALID },
		{ 2, 404, "ELB.9800", LBR_OUT_NOT_FOUND },
		{ 1, 401, "APIGW.0301", LBR_OUT_AUTH },
		{ 0, 401, NULL, LBR_OUT_AUTH },
		{ 1, 403, "APIGW.0301", LBR_OUT_AUTH },
		{ 1, 403, "ELB.1102", LBR_OUT_AUTH },
		{ 1, 403, "ELB.9802", LBR_OUT_INVALID },
		{ 1, 403, "APIGW.0302", LBR_OUT_INVALID },
		{ 1, 429, "APIGW.0308", LBR_OUT_THROTTLED },
		{ 1, 409, "ELB.8907", LBR_OUT_CONFLICT },
		{ 1, 409, "ELB.8905", LBR_OUT_INVALID },
		{ 1, 409, NULL, LBR_OUT_CONFLICT },
		{ 2, 409, "ELB.1001", LBR_OUT_CONFLICT },
		{ 1, 500, "ELB.8906", LBR_OUT_TRANSIENT },
		{ 0, 503, "APIGW.0613", LBR_OUT_TRANSIENT },
		{ 1, 504, NULL, LBR_OUT_TRANSIENT },
		{ 1, 400, "ELB.9899", LBR_OUT_INVALID },
		{ 0, 400, "ELB.2012", LBR_OUT_INVALID },
		{ 1, 413, "APIGW.0201", LBR_OUT_INVALID },
		{ 1, 302, NULL, LBR_OUT_INVALID },
	};
	struct lbr_call_result res;
	struct lbr_member_ref m = { M1, "10.0.0.1", 80, 5, -1 };
	char next[200], body[256];
	void *prov;
	size_t i;

	mock_reset();
	mock_set_now(NOW);
	prov = open_aksk("https://elb.example.test", NULL);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct class_row *r = &rows[i];
		const char *ok_list = "{\"members\":[]}";

		if (r->code)
			snprintf(body, sizeof(body),
				 "{\"error\":{\"message\":\"m\",\"code\":"
				 "\"%s\"}}",
				 r->code);
		else
			snprintf(body, sizeof(body), "%s",
				 r->op == 0 && r->status < 300 ? ok_list : "");
		mock_push_response(r->status, body, NULL);
		if (r->op == 0)
			P->list_page(prov, mock_call(), &target, "", mock_obs(), next, sizeof(next),
				     &res);
		else if (r->op == 1)
			rm1(prov, &m, &res);
		else
			drain1(prov, &m, 1, &res);
		tap_is_int(r->op == 0 ? res.outcome : effective(&res), r->want,
			   "%s HTTP %ld %s -> %d",
			   r->op == 0   ? "list"
			   : r->op == 1 ? "remove"
					: "drain",
			   r->status, r->code ? r->code : "(no code)", (int)r->want);
		check_no_secret(&res, "classification");
	}

	/* List-specific diagnoses. */
	mock_push_response(404,
			   "{\"error\":{\"message\":\"pool " POOL
			   " could not be found\",\"code\":\"ELB.9800\"}}",
			   NULL);
	P->list_page(prov, mock_call(), &target, "", mock_obs(), next, sizeof(next), &res);
	tap_ok(strstr(res.message, "pool not found") != NULL, "list 404: 'pool not found' (%s)",
	       res.message);
	mock_push_response(404,
			   "{\"error_msg\":\"The API does not exist or has not "
			   "been published in the environment\",\"error_code\":"
			   "\"APIGW.0101\",\"request_id\":\"r1\"}",
			   NULL);
	P->list_page(prov, mock_call(), &target, "", mock_obs(), next, sizeof(next), &res);
	tap_ok(strstr(res.message, "wrong endpoint") != NULL,
	       "APIGW.0101: hints at the endpoint (%s)", res.message);

	/* Retry-After is passed through. */
	{
		static const char *const h[] = { "Retry-After: 3", NULL };

		mock_push_response(429,
				   "{\"error_msg\":\"The throttling threshold "
				   "has been reached\",\"error_code\":"
				   "\"APIGW.0308\"}",
				   h);
		rm1(prov, &m, &res);
		tap_is_int(res.outcome, LBR_OUT_THROTTLED, "429: throttled");
		tap_is_int(res.retry_after_ms, 3000, "429: retry_after_ms");
	}

	/* Transport failures. */
	mock_push_transport_error(LBR_ETRANSPORT, "connection refused");
	rm1(prov, &m, &res);
	tap_is_int(res.outcome, LBR_OUT_TRANSIENT, "transport error: transient");
	tap_is_int(res.http_status, 0, "transport error: no status");
	tap_ok(strstr(res.message, "connection refused") != NULL,
	       "transport error: reason kept (%s)", res.message);
	mock_push_transport_error(LBR_EFATAL, "TLS verify failed");
	P->list_page(prov, mock_call(), &target, "", mock_obs(), next, sizeof(next), &res);
	tap_is_int(res.outcome, LBR_OUT_INVALID, "fatal transport: invalid");
	P->close(prov);
}

static void test_remove_and_drain(void)
{
	struct lbr_call_result res;
	struct lbr_member_ref m = { M1, "10.0.0.1", 80, 7, -1 };
	struct lbr_member_ref bad = { "x/y", "10.0.0.1", 80, 7, -1 };
	const struct mock_request *rq;
	const char *mpath = "/v2/" PROJ "/elb/pools/" POOL "/members/" M1;
	void *prov;

	mock_reset();
	mock_set_now(NOW);
	prov = open_aksk("https://elb.example.test", NULL);

	mock_push_response(204, "", NULL);
	tap_is_int(rm1(prov, &m, &res), 0, "remove returns 0");
	tap_is_int(res.outcome, LBR_OUT_OK, "remove 204: call OK");
	tap_is_int(last_item.outcome, LBR_OUT_OK, "remove 204: item OK");
	tap_is_str(last_item.message, "", "remove 204: item message cleared");
	rq = mock_request_at(0);
	tap_is_str(rq->method, "DELETE", "remove: method");
	tap_is_str(rq->url, "https://elb.example.test/v2/" PROJ "/elb/pools/" POOL "/members/" M1,
		   "remove: URL");
	tap_ok(rq->body == NULL && !mock_request_header(0, "Content-Type"),
	       "remove: no body, no Content-Type");
	verify_signature(0, "DELETE", "elb.example.test", mpath, NULL, 0, NULL, "remove");

	mock_push_response(404,
			   "{\"error\":{\"message\":\"member " M1
			   " could not be found\",\"code\":\"ELB.9800\"}}",
			   NULL);
	rm1(prov, &m, &res);
	tap_is_int(res.outcome, LBR_OUT_OK, "remove 404: the call worked");
	tap_is_int(last_item.outcome, LBR_OUT_NOT_FOUND, "remove 404: item not found");
	tap_is_str(last_item.message, "not found", "remove 404: item message");
	tap_is_str(res.code, "ELB.9800", "remove 404: code");
	tap_is_int(res.http_status, 404, "remove 404: status kept");

	rm1(prov, &bad, &res);
	tap_is_int(res.outcome, LBR_OUT_INVALID, "malformed member id refused");
	tap_is_int(mock_n_requests(), 2, "no request for a malformed id");

	/* Drain: weight 0 sent explicitly. */
	mock_push_response(200, "{\"member\":{\"id\":\"" M1 "\",\"weight\":0}}", NULL);
	tap_is_int(drain1(prov, &m, 1, &res), 0, "drain returns 0");
	tap_is_int(res.outcome, LBR_OUT_OK, "drain 200: OK");
	tap_is_int(last_item.outcome, LBR_OUT_OK, "drain 200: item OK");
	rq = mock_request_at(2);
	tap_is_str(rq->method, "PUT", "drain: method");
	tap_is_str(rq->url, "https://elb.example.test/v2/" PROJ "/elb/pools/" POOL "/members/" M1,
		   "drain: URL");
	tap_is_str(rq->body, "{\"member\":{\"weight\":0}}", "drain: body with explicit weight 0");
	tap_is_str(mock_request_header(2, "Content-Type"), "application/json",
		   "drain: Content-Type");
	tap_ok(strstr(mock_request_header(2, "Authorization"),
		      "SignedHeaders=content-type;host;x-project-id;"
		      "x-sdk-date,") != NULL,
	       "drain: content-type is signed");
	verify_signature(2, "PUT", "elb.example.test", mpath, NULL, 0,
			 "{\"member\":{\"weight\":0}}", "drain");

	/* Undrain restores the recorded weight. */
	mock_push_response(200, "{}", NULL);
	drain1(prov, &m, 0, &res);
	tap_is_str(mock_request_at(3)->body, "{\"member\":{\"weight\":7}}",
		   "undrain: body restores weight 7");
	verify_signature(3, "PUT", "elb.example.test", mpath, NULL, 0,
			 "{\"member\":{\"weight\":7}}", "undrain");

	m.weight = -1;
	drain1(prov, &m, 0, &res);
	tap_is_int(res.outcome, LBR_OUT_INVALID, "undrain with unknown weight refused");
	tap_is_int(last_item.outcome, LBR_OUT_INVALID,
		   "undrain with unknown weight: item failed too");
	tap_is_int(mock_n_requests(), 4, "no request for an unknown weight");
	P->close(prov);
}

static void test_token_and_secrets(void)
{
	struct lbr_kv cfg[] = { { "project_id", PROJ },
				{ "endpoint", "https://elb.example.test" },
				{ "token", TOKEN } };
	struct lbr_call_result res;
	struct lbr_member_ref m = { M1, "10.0.0.1", 80, 1, -1 };
	char next[200];
	void *prov;

	mock_reset();
	mock_set_now(NOW);
	prov = open_ok(cfg, 3);
	tap_ok(prov != NULL, "open with token");
	mock_push_response(200, "{\"members\":[]}", NULL);
	P->list_page(prov, mock_call(), &target, "", mock_obs(), next, sizeof(next), &res);
	tap_is_int(res.outcome, LBR_OUT_OK, "token list OK");
	tap_is_str(mock_request_header(0, "X-Auth-Token"), TOKEN, "token: X-Auth-Token sent");
	tap_is_str(mock_request_header(0, "X-Project-Id"), PROJ, "token: X-Project-Id sent");
	tap_ok(!mock_request_header(0, "Authorization") && !mock_request_header(0, "X-Sdk-Date"),
	       "token: no signature headers");
	tap_is_str(mock_request_at(0)->url,
		   "https://elb.example.test/v2/" PROJ "/elb/pools/" POOL "/members?limit=2000",
		   "token: URL");

	/* A cloud message that echoes the token is redacted. */
	mock_push_response(401,
			   "{\"error_msg\":\"decrypt token fail: " TOKEN
			   "\",\"error_code\":\"APIGW.0301\",\"request_id\":"
			   "\"" TOKEN "\"}",
			   NULL);
	rm1(prov, &m, &res);
	tap_is_int(res.outcome, LBR_OUT_AUTH, "token rejected: AUTH");
	tap_ok(strstr(res.message, "[REDACTED]") != NULL, "echoed token replaced (%s)",
	       res.message);
	check_no_secret(&res, "token echo");
	P->close(prov);

	/* Same with AK/SK: a gateway message quoting the key pair. */
	mock_reset();
	mock_set_now(NOW);
	prov = open_aksk("https://elb.example.test", NULL);
	mock_push_response(401,
			   "{\"error_msg\":\"verify aksk signature fail, "
			   "ak " AK " sk " SK " end\",\"error_code\":"
			   "\"APIGW.0301\"}",
			   NULL);
	P->list_page(prov, mock_call(), &target, "", mock_obs(), next, sizeof(next), &res);
	tap_is_int(res.outcome, LBR_OUT_AUTH, "bad signature: AUTH");
	tap_ok(strstr(res.message, "end") != NULL, "redaction keeps the rest of the message (%s)",
	       res.message);
	check_no_secret(&res, "aksk echo");

	/* A token that occurs in the mask itself ("E" is in "[REDACTED]"):
	 * every occurrence is masked once and redaction ends. */
	{
		static const struct lbr_kv short_tok[] = {
			{ "region", "cn-north-4" },
			{ "project_id", PROJ },
			{ "token", "E" },
		};

		void *sp;

		mock_reset();
		mock_set_now(NOW);
		sp = open_ok(short_tok, 3);
		tap_ok(sp != NULL, "open with a one-letter token");
		mock_push_response(401,
				   "{\"error_msg\":\"bad E here\",\"error_code\":\"APIGW.0301\"}",
				   NULL);
		rm1(sp, &m, &res);
		tap_ok(strstr(res.message, ": bad [REDACTED] here") != NULL,
		       "a one-letter token is masked once and redaction terminates (%s)",
		       res.message);
		P->close(sp);
	}

	/* The parser on its own: every documented shape is found. */
	{
		struct lbr_hw_error e;
		const char *nested = "{\"error\":{\"code\":\"ELB.1\","
				     "\"message\":\"a\\nb\"}}";

		tap_is_int(lbr_hw_parse_error("{}", 2, &e), 0, "empty object: nothing found");
		tap_is_int(lbr_hw_parse_error("nope", 4, &e), 0, "not JSON: nothing found");
		tap_is_int(lbr_hw_parse_error(nested, strlen(nested), &e), 1, "nested error found");
		tap_is_str(e.code, "ELB.1", "nested code");
		tap_is_str(e.message, "a b", "control bytes cleaned");
	}
	P->close(prov);
}

#define SUBNET "013d3059-87a4-45a5-91e9-d721068ae0b2"
#define BASE "https://elb.example.test"
#define V3POOL "/v3/" PROJ "/elb/pools/" POOL "/members"

static const struct lbr_kv subnet_kv[] = { { "pool_id", POOL }, { "subnet_id", SUBNET } };
static const struct lbr_target subnet_target = { "web", subnet_kv, 2, 1, NULL, 0 };

static void *open_api(const char *api, const char *page_size)
{
	struct lbr_kv cfg[7];
	size_t n = 0;

	cfg[n++] = (struct lbr_kv){ "project_id", PROJ };
	cfg[n++] = (struct lbr_kv){ "access_key", AK };
	cfg[n++] = (struct lbr_kv){ "secret_key", SK };
	cfg[n++] = (struct lbr_kv){ "endpoint", BASE };
	if (api)
		cfg[n++] = (struct lbr_kv){ "api", api };
	if (page_size)
		cfg[n++] = (struct lbr_kv){ "page_size", page_size };
	return open_ok(cfg, n);
}

static void test_instance_info(void)
{
	void *prov;
	uint64_t caps = LBR_CAP_DRAIN | LBR_CAP_CREATE | LBR_CAP_WEIGHT | LBR_CAP_COOPERATIVE;

	prov = open_api(NULL, NULL);
	tap_ok(prov != NULL, "open without api (v2 by default)");
	tap_is_str(last_info.api, "v2", "default api is v2");
	tap_ok(last_info.caps == caps, "v2 caps: drain, create, weight, coop");
	tap_ok(last_info.batch[LBR_BATCH_REMOVE] == 1 && last_info.batch[LBR_BATCH_CREATE] == 1 &&
		       last_info.batch[LBR_BATCH_WEIGHT] == 1 &&
		       last_info.batch[LBR_BATCH_DRAIN] == 1,
	       "v2: one member per call");
	tap_ok(last_info.weight_min == 0 && last_info.weight_max == 100, "v2: weights 0..100");
	P->close(prov);

	prov = open_api("v2", NULL);
	tap_is_str(last_info.api, "v2", "api = v2");
	P->close(prov);

	prov = open_api("v3", NULL);
	tap_ok(prov != NULL, "open with api = v3");
	tap_is_str(last_info.api, "v3", "api v3 reported");
	tap_ok(last_info.caps == caps, "v3 caps: drain, create, weight, coop");
	tap_is_int(last_info.batch[LBR_BATCH_REMOVE], 200, "v3: batch-delete takes 200");
	tap_is_int(last_info.batch[LBR_BATCH_CREATE], 200, "v3: batch-add takes 200");
	tap_is_int(last_info.batch[LBR_BATCH_WEIGHT], 1, "v3: weights one PUT per member");
	tap_is_int(last_info.batch[LBR_BATCH_DRAIN], 1, "v3: drain one PUT per member");
	tap_ok(last_info.weight_min == 0 && last_info.weight_max == 100, "v3: weights 0..100");
	P->close(prov);
}

static void test_check_create(void)
{
	static const struct lbr_kv bad_subnet[] = { { "pool_id", POOL }, { "subnet_id", "a b" } };
	struct lbr_member_spec ms[2] = {
		{ "10.0.0.5", 80, -1, NULL, NULL },
		{ "10.0.0.6", 80, -1, NULL, "ecs-1" },
	};
	struct lbr_target t;
	char err[256];
	void *v2 = open_api("v2", NULL), *v3 = open_api("v3", NULL);

	t = (struct lbr_target){ "web", pool_kv, 1, 1, ms, 1 };
	err[0] = '\0';
	tap_ok(P->check_target(v2, &t, err, sizeof(err)) < 0 && strstr(err, "pool web") &&
		       strstr(err, "subnet_id"),
	       "v2 create without subnet_id refused, naming the pool (%s)", err);
	tap_is_int(P->check_target(v3, &t, err, sizeof(err)), 0,
		   "v3 create without subnet_id accepted");
	t.create = 0;
	tap_is_int(P->check_target(v2, &t, err, sizeof(err)), 0,
		   "v2 without create needs no subnet_id");
	t = (struct lbr_target){ "web", subnet_kv, 2, 1, ms, 1 };
	tap_is_int(P->check_target(v2, &t, err, sizeof(err)), 0,
		   "v2 create with subnet_id accepted");
	t.n_members = 2;
	err[0] = '\0';
	tap_ok(P->check_target(v3, &t, err, sizeof(err)) < 0 && strstr(err, "resource=") &&
		       strstr(err, "10.0.0.6"),
	       "resource= on a member refused (%s)", err);
	t.create = 0;
	tap_ok(P->check_target(v2, &t, err, sizeof(err)) < 0,
	       "resource= refused without create too");
	t = (struct lbr_target){ "web", bad_subnet, 2, 0, NULL, 0 };
	err[0] = '\0';
	tap_ok(P->check_target(v3, &t, err, sizeof(err)) < 0 && strstr(err, "subnet_id"),
	       "malformed subnet_id refused (%s)", err);

	/* v2's subnet_id is an IPv4 subnet: no IPv6 member can be created. */
	{
		struct lbr_member_spec six[2] = {
			{ "10.0.0.5", 80, -1, NULL, NULL },
			{ "2001:db8::7", 8080, -1, NULL, NULL },
		};
		struct lbr_call_result res;
		struct lbr_item_result it[2];

		t = (struct lbr_target){ "web", subnet_kv, 2, 1, six, 2 };
		err[0] = '\0';
		tap_ok(P->check_target(v2, &t, err, sizeof(err)) < 0 &&
			       strstr(err, "member 2001:db8::7 port 8080: IPv6 members cannot be "
					   "created on the Huawei v2 API"),
		       "v2 create of an IPv6 member refused, naming it (%s)", err);
		tap_is_int(P->check_target(v3, &t, err, sizeof(err)), 0,
			   "v3 create of an IPv6 member accepted");
		t.create = 0;
		tap_is_int(P->check_target(v2, &t, err, sizeof(err)), 0,
			   "v2 IPv6 member without create accepted (it can be kept or removed)");
		mock_reset();
		P->create_members(v2, mock_call(), &subnet_target, &six[1], 1, it, &res);
		tap_ok(res.outcome == LBR_OUT_INVALID && strstr(res.message, "IPv6") &&
			       mock_n_requests() == 0,
		       "v2 create_members of an IPv6 member: refused, no request (%s)",
		       res.message);
	}
	P->close(v2);
	P->close(v3);
}

static void test_v3_list(void)
{
	static const char *const rid[] = { RID_HDR, NULL };
	struct lbr_call_result res;
	struct lbr_kv q1[] = { { "limit", "2" } };
	struct lbr_kv q2[] = { { "limit", "2" }, { "marker", M2 } };
	const struct mock_member *m;
	char next[200];
	size_t before;
	void *prov;

	mock_reset();
	mock_set_now(NOW);
	prov = open_api("v3", "2");
	mock_push_response(200,
			   "{\"members\":[{\"id\":\"" M1 "\",\"name\":\"web-a\","
			   "\"address\":\"10.0.0.11\",\"protocol_port\":80,"
			   "\"weight\":3,\"member_type\":\"ip\","
			   "\"instance_id\":\"\",\"subnet_cidr_id\":\"" SUBNET "\"},{\"id\":\"" M2
			   "\",\"name\":\"\",\"address\":"
			   "\"10.0.0.12\",\"protocol_port\":81,\"weight\":0,"
			   "\"member_type\":\"instance\",\"instance_id\":"
			   "\"ecs-0001\"}],\"page_info\":{\"previous_marker\":"
			   "\"" M1 "\",\"next_marker\":\"" M2 "\","
			   "\"current_count\":2},\"request_id\":\"body-rid\"}",
			   rid);
	P->list_page(prov, mock_call(), &target, "", mock_obs(), next, sizeof(next), &res);
	tap_is_int(res.outcome, LBR_OUT_OK, "v3 page 1 OK");
	tap_is_str(mock_request_at(0)->method, "GET", "v3 list: GET");
	tap_is_str(mock_request_at(0)->url, BASE V3POOL "?limit=2",
		   "v3 list URL, first page: limit only");
	verify_signature(0, "GET", "elb.example.test", V3POOL, q1, 1, NULL, "v3 page 1");
	tap_is_str(next, M2, "v3: cursor = page_info.next_marker");
	tap_is_int(mock_n_members(), 2, "v3 page 1: two members");
	m = mock_member_at(0);
	tap_ok(m && !strcmp(m->id, M1) && !strcmp(m->address, "10.0.0.11") && m->port == 80 &&
		       m->weight == 3 && m->enabled == -1,
	       "v3 member 1: id, address, port, weight");
	tap_ok(m && m->name && !strcmp(m->name, "web-a"), "v3 member 1: name");
	tap_ok(m && m->type && !strcmp(m->type, "ip"), "v3 member 1: type ip");
	tap_ok(m && m->instance_id == NULL, "v3 member 1: empty instance_id reported as none");
	m = mock_member_at(1);
	tap_ok(m && m->type && !strcmp(m->type, "instance") && m->instance_id &&
		       !strcmp(m->instance_id, "ecs-0001") && m->weight == 0,
	       "v3 member 2: instance type, instance_id, weight 0");

	/* Last page: page_info without next_marker. */
	mock_push_response(200,
			   "{\"members\":[{\"id\":\"" M3 "\",\"address\":"
			   "\"10.0.0.13\",\"protocol_port\":443}],"
			   "\"page_info\":{\"previous_marker\":\"" M3 "\","
			   "\"current_count\":1}}",
			   NULL);
	P->list_page(prov, mock_call(), &target, next, mock_obs(), next, sizeof(next), &res);
	tap_is_int(res.outcome, LBR_OUT_OK, "v3 last page OK");
	tap_is_str(mock_request_at(1)->url, BASE V3POOL "?limit=2&marker=" M2,
		   "v3 page 2 URL: limit and marker");
	verify_signature(1, "GET", "elb.example.test", V3POOL, q2, 2, NULL, "v3 page 2");
	tap_is_str(next, "", "v3: no next_marker, last page");
	tap_is_int(mock_n_members(), 3, "v3: three members in all");

	/* A full page whose page_info has no next_marker is the last. */
	mock_push_response(200,
			   "{\"members\":[{\"id\":\"" M1 "\",\"address\":"
			   "\"10.0.0.1\",\"protocol_port\":1},{\"id\":\"" M2
			   "\",\"address\":\"10.0.0.2\",\"protocol_port\":1}],"
			   "\"page_info\":{\"current_count\":2,"
			   "\"next_marker\":null}}",
			   NULL);
	P->list_page(prov, mock_call(), &target, "", mock_obs(), next, sizeof(next), &res);
	tap_ok(res.outcome == LBR_OUT_OK && next[0] == '\0',
	       "v3 full page with page_info, next_marker null: last page");

	/* A short page without page_info is the last one too. */
	mock_push_response(200,
			   "{\"members\":[{\"id\":\"" M1 "\",\"address\":"
			   "\"10.0.0.1\",\"protocol_port\":1}]}",
			   NULL);
	strcpy(next, "x");
	P->list_page(prov, mock_call(), &target, "", mock_obs(), next, sizeof(next), &res);
	tap_ok(res.outcome == LBR_OUT_OK && next[0] == '\0',
	       "v3 short page without page_info: last page");

	/* The server hands back the marker it was sent. */
	before = mock_n_members();
	mock_push_response(200,
			   "{\"members\":[{\"id\":\"" M3 "\",\"address\":"
			   "\"10.0.0.13\",\"protocol_port\":443}],"
			   "\"page_info\":{\"next_marker\":\"" M2 "\"}}",
			   NULL);
	strcpy(next, M2);
	P->list_page(prov, mock_call(), &target, next, mock_obs(), next, sizeof(next), &res);
	tap_is_int(res.outcome, LBR_OUT_INVALID, "v3 non-advancing marker: INVALID");
	tap_ok(strstr(res.message, "did not advance") != NULL, "non-advancing marker: message (%s)",
	       res.message);
	tap_is_str(next, "", "non-advancing marker: no cursor");
	tap_is_int(mock_n_members(), before, "non-advancing marker: nothing observed");

	/* ... but on an empty page that is the end of the list. */
	mock_push_response(200,
			   "{\"members\":[],\"page_info\":{\"previous_marker\":\"" M2
			   "\",\"next_marker\":\"" M2 "\",\"current_count\":0}}",
			   NULL);
	strcpy(next, M2);
	P->list_page(prov, mock_call(), &target, next, mock_obs(), next, sizeof(next), &res);
	tap_ok(res.outcome == LBR_OUT_OK && next[0] == '\0',
	       "v3 empty page repeating the marker sent: the last page (%s)", res.message);

	/* A full page without page_info: more may follow, unknown where. */
	mock_push_response(200,
			   "{\"members\":[{\"id\":\"" M1 "\",\"address\":"
			   "\"10.0.0.1\",\"protocol_port\":1},{\"id\":\"" M2
			   "\",\"address\":\"10.0.0.2\",\"protocol_port\":1}]}",
			   NULL);
	P->list_page(prov, mock_call(), &target, "", mock_obs(), next, sizeof(next), &res);
	tap_is_int(res.outcome, LBR_OUT_INVALID, "v3 full page without page_info: INVALID");
	tap_ok(strstr(res.message, "page_info") != NULL, "missing page_info: message (%s)",
	       res.message);
	tap_is_int(mock_n_members(), before, "missing page_info: nothing observed");

	/* Malformed members and paging fields. */
	{
		static const char *const bad[] = {
			"{\"members\":[{\"id\":\"" M1 "\",\"address\":\"10.0.0.1\","
			"\"protocol_port\":1,\"member_type\":7}],"
			"\"page_info\":{}}",
			"{\"members\":[{\"id\":\"" M1 "\",\"address\":\"10.0.0.1\","
			"\"protocol_port\":1,\"name\":[]}],\"page_info\":{}}",
			"{\"members\":[{\"id\":\"" M1 "\",\"protocol_port\":1}],"
			"\"page_info\":{}}",
			"{\"members\":[],\"page_info\":{\"next_marker\":\"a/b\"}}",
			"{\"members\":[],\"page_info\":{\"next_marker\":5}}",
			"{\"members\":[],\"page_info\":[]}",
			"{\"page_info\":{}}",
		};
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			mock_push_response(200, bad[i], NULL);
			P->list_page(prov, mock_call(), &target, "", mock_obs(), next, sizeof(next),
				     &res);
			tap_is_int(res.outcome, LBR_OUT_INVALID,
				   "v3 malformed page %zu: INVALID (%s)", i, res.message);
			tap_is_int(mock_n_members(), before,
				   "v3 malformed page %zu: nothing observed", i);
		}
	}

	/* The v3 error shape: flat error_msg/error_code/request_id. */
	mock_push_response(404,
			   "{\"error_msg\":\"pool " POOL " could not be "
			   "found.\",\"error_code\":\"ELB.8904\","
			   "\"request_id\":\"0f0e0d0c\"}",
			   NULL);
	P->list_page(prov, mock_call(), &target, "", mock_obs(), next, sizeof(next), &res);
	tap_is_int(res.outcome, LBR_OUT_INVALID, "v3 list 404: INVALID");
	tap_is_str(res.code, "ELB.8904", "v3 error: code");
	tap_is_str(res.request_id, "0f0e0d0c", "v3 error: request id");
	tap_ok(strstr(res.message, "pool not found") && strstr(res.message, "could not be found."),
	       "v3 error: message (%s)", res.message);
	P->close(prov);
}

static void test_v3_remove(void)
{
	struct lbr_member_ref m[3] = {
		{ M1, "10.0.0.1", 80, 1, -1 },
		{ M2, "10.0.0.2", 80, 1, -1 },
		{ M3, "10.0.0.3", 80, 1, -1 },
	};
	static const char *const body = "{\"members\":[{\"id\":\"" M1 "\"},{\"id\":\"" M2 "\"},"
					"{\"id\":\"" M3 "\"}]}";
	struct lbr_member_ref many[201];
	struct lbr_item_result it[201];
	struct lbr_call_result res;
	const struct mock_request *rq;
	void *prov;
	size_t i;

	mock_reset();
	mock_set_now(NOW);
	prov = open_api("v3", NULL);
	mock_push_response(200,
			   "{\"request_id\":\"rid-7\",\"members\":["
			   "{\"id\":\"" M2 "\",\"ret_status\":\"not found\"},"
			   "{\"id\":\"" M1 "\",\"ret_status\":\"successful\"}"
			   "]}",
			   NULL);
	memset(it, 0x5a, sizeof(it));
	tap_is_int(P->remove_members(prov, mock_call(), &target, m, 3, it, &res), 0,
		   "v3 batch remove returns 0");
	rq = mock_request_at(0);
	tap_is_str(rq->method, "POST", "batch-delete: POST");
	tap_is_str(rq->url, BASE V3POOL "/batch-delete", "batch-delete: URL");
	tap_is_str(rq->body, body, "batch-delete: body, ids in order");
	tap_is_str(mock_request_header(0, "Content-Type"), "application/json",
		   "batch-delete: Content-Type");
	verify_signature(0, "POST", "elb.example.test", V3POOL "/batch-delete", NULL, 0, body,
			 "batch-delete");
	tap_is_int(res.outcome, LBR_OUT_OK, "batch-delete: call OK");
	tap_is_int(res.http_status, 200, "batch-delete: status");
	tap_is_str(res.request_id, "rid-7", "batch-delete: body request_id");
	tap_is_int(it[0].outcome, LBR_OUT_OK, "M1 successful: OK");
	tap_is_str(it[0].message, "", "M1: no message");
	tap_is_int(it[1].outcome, LBR_OUT_NOT_FOUND, "M2 not found: NOT_FOUND");
	tap_is_str(it[1].message, "not found", "M2: message");
	tap_is_int(it[2].outcome, LBR_OUT_UNSET, "M3 missing from the answer: stays unset");
	tap_ok(strstr(it[2].message, "missing") != NULL, "M3: message says missing (%s)",
	       it[2].message);

	/* An unknown ret_status fails that item. */
	mock_push_response(200,
			   "{\"members\":[{\"id\":\"" M1 "\",\"ret_status\":"
			   "\"failed\"}]}",
			   NULL);
	P->remove_members(prov, mock_call(), &target, m, 1, it, &res);
	tap_ok(res.outcome == LBR_OUT_OK && it[0].outcome == LBR_OUT_INVALID &&
		       strstr(it[0].message, "failed"),
	       "unknown ret_status: item INVALID (%s)", it[0].message);

	/* Call-level failures leave the items unset. */
	mock_push_response(429,
			   "{\"error_msg\":\"The throttling threshold has been "
			   "reached\",\"error_code\":\"APIGW.0308\","
			   "\"request_id\":\"r\"}",
			   NULL);
	P->remove_members(prov, mock_call(), &target, m, 2, it, &res);
	tap_is_int(res.outcome, LBR_OUT_THROTTLED, "batch-delete 429");
	tap_ok(it[0].outcome == LBR_OUT_UNSET && it[1].outcome == LBR_OUT_UNSET,
	       "429: items unset");
	mock_push_response(404,
			   "{\"error_msg\":\"pool could not be found.\","
			   "\"error_code\":\"ELB.8904\",\"request_id\":\"r\"}",
			   NULL);
	P->remove_members(prov, mock_call(), &target, m, 2, it, &res);
	tap_is_int(res.outcome, LBR_OUT_INVALID,
		   "batch-delete 404 (the pool): INVALID, not 'gone'");
	tap_ok(it[0].outcome == LBR_OUT_UNSET, "404: items unset");
	mock_push_response(200, "{\"members\":[{\"id\":\"" M1, NULL);
	P->remove_members(prov, mock_call(), &target, m, 2, it, &res);
	tap_is_int(res.outcome, LBR_OUT_TRANSIENT, "batch-delete truncated answer: TRANSIENT");
	tap_ok(it[0].outcome == LBR_OUT_UNSET && it[1].outcome == LBR_OUT_UNSET,
	       "truncated answer: items unset");
	mock_push_response(200, "{\"request_id\":\"x\"}", NULL);
	P->remove_members(prov, mock_call(), &target, m, 2, it, &res);
	tap_is_int(res.outcome, LBR_OUT_INVALID, "batch-delete answer without members: INVALID");

	/* More than 200 is never sent. */
	for (i = 0; i < 201; i++)
		many[i] = m[0];
	i = mock_n_requests();
	P->remove_members(prov, mock_call(), &target, many, 201, it, &res);
	tap_is_int(res.outcome, LBR_OUT_INVALID, "batch of 201 refused");
	tap_is_int(mock_n_requests(), i, "batch of 201: no request");
	P->close(prov);
}

static void test_v3_create(void)
{
	struct lbr_member_spec ms[3] = {
		{ "10.0.0.5", 80, 0, "web-a", NULL },
		{ "2001:db8::7", 8080, -1, NULL, NULL },
		{ "10.0.0.9", 80, 5, NULL, NULL },
	};
	static const char *const body =
		"{\"members\":[{\"address\":\"10.0.0.5\",\"protocol_port\":80,"
		"\"subnet_cidr_id\":\"" SUBNET "\",\"weight\":0,\"name\":"
		"\"web-a\"},{\"address\":\"2001:db8::7\",\"protocol_port\":"
		"8080,\"subnet_cidr_id\":\"" SUBNET "\"},{\"address\":"
		"\"10.0.0.9\",\"protocol_port\":80,\"subnet_cidr_id\":\"" SUBNET
		"\",\"weight\":5}]}";
	struct lbr_item_result it[3];
	struct lbr_call_result res;
	struct lbr_member_spec bad = { "10.0.0.5", 80, -1, NULL, "ecs-1" };
	void *prov;
	size_t before;

	mock_reset();
	mock_set_now(NOW);
	prov = open_api("v3", NULL);
	mock_push_response(200,
			   "{\"request_id\":\"r\",\"members\":["
			   "{\"id\":\"" M2 "\",\"address\":\"2001:db8:0:0::7\","
			   "\"protocol_port\":8080,\"ret_status\":\"existed\"},"
			   "{\"id\":\"" M1 "\",\"address\":\"10.0.0.5\","
			   "\"protocol_port\":80,\"ret_status\":\"successful\"}"
			   "]}",
			   NULL);
	memset(it, 0x5a, sizeof(it));
	tap_is_int(P->create_members(prov, mock_call(), &subnet_target, ms, 3, it, &res), 0,
		   "v3 batch-add returns 0");
	tap_is_str(mock_request_at(0)->method, "POST", "batch-add: POST");
	tap_is_str(mock_request_at(0)->url, BASE V3POOL "/batch-add", "batch-add: URL");
	tap_is_str(mock_request_at(0)->body, body,
		   "batch-add: body with subnet_cidr_id, weight 0 and name");
	verify_signature(0, "POST", "elb.example.test", V3POOL "/batch-add", NULL, 0, body,
			 "batch-add");
	tap_is_int(res.outcome, LBR_OUT_OK, "batch-add: call OK");
	tap_ok(it[0].outcome == LBR_OUT_OK && !strcmp(it[0].id, M1),
	       "10.0.0.5 successful: OK with the new id");
	tap_ok(it[1].outcome == LBR_OUT_EXISTS && !strcmp(it[1].id, M2),
	       "IPv6 member existed (matched across spellings): EXISTS");
	tap_ok(it[2].outcome == LBR_OUT_UNSET && strstr(it[2].message, "missing"),
	       "member missing from the answer: unset (%s)", it[2].message);

	/* The reference documents the batch-delete answer only: an add
	 * answered with member objects (no ret_status) created them, and
	 * one without addresses is matched by position. */
	mock_push_response(200,
			   "{\"members\":[{\"id\":\"" M3 "\",\"address\":\"10.0.0.9\","
			   "\"protocol_port\":80,\"weight\":5}]}",
			   NULL);
	memset(it, 0x5a, sizeof(it));
	P->create_members(prov, mock_call(), &subnet_target, &ms[2], 1, it, &res);
	tap_ok(res.outcome == LBR_OUT_OK && it[0].outcome == LBR_OUT_OK && !strcmp(it[0].id, M3),
	       "member object with its address, no ret_status: OK with its id");
	mock_push_response(200,
			   "{\"members\":[{\"id\":\"" M1 "\"},"
			   "{\"id\":\"" M2 "\",\"ret_status\":\"existed\"},"
			   "{\"id\":\"" M3 "\",\"ret_status\":\"successful\"}]}",
			   NULL);
	memset(it, 0x5a, sizeof(it));
	P->create_members(prov, mock_call(), &subnet_target, ms, 3, it, &res);
	tap_is_int(res.outcome, LBR_OUT_OK, "batch-add, entries without addresses: call OK");
	tap_ok(it[0].outcome == LBR_OUT_OK && !it[0].id[0],
	       "entry 0 without address (an id, no ret_status): member 0 OK, its id not taken");
	tap_ok(it[1].outcome == LBR_OUT_EXISTS && !it[1].id[0],
	       "entry 1 without address, existed: member 1 EXISTS");
	tap_ok(it[2].outcome == LBR_OUT_OK && !it[2].id[0],
	       "entry 2 without address, successful: member 2 OK");
	mock_push_response(200,
			   "{\"members\":[\"x\",{\"id\":\"" M1 "\",\"ret_status\":\"successful\"},"
			   "{\"id\":\"" M2 "\",\"ret_status\":\"successful\"}]}",
			   NULL);
	memset(it, 0x5a, sizeof(it));
	P->create_members(prov, mock_call(), &subnet_target, ms, 2, it, &res);
	tap_ok(it[0].outcome == LBR_OUT_UNSET && it[1].outcome == LBR_OUT_UNSET &&
		       strstr(it[0].message, "3 entries without addresses for 2 members"),
	       "a non-object entry counts: 3 entries for 2 members, none taken (%s)",
	       it[0].message);
	mock_push_response(200,
			   "{\"members\":[{\"id\":\"" M1 "\",\"ret_status\":\"successful\"},"
			   "{\"id\":\"" M2 "\",\"ret_status\":\"successful\"}]}",
			   NULL);
	memset(it, 0x5a, sizeof(it));
	P->create_members(prov, mock_call(), &subnet_target, ms, 3, it, &res);
	tap_ok(it[0].outcome == LBR_OUT_UNSET && it[1].outcome == LBR_OUT_UNSET &&
		       it[2].outcome == LBR_OUT_UNSET && !it[0].id[0] &&
		       strstr(it[0].message, "2 entries without addresses for 3 members"),
	       "2 entries without addresses for 3 members: none taken (%s)", it[0].message);
	mock_push_response(200, "{\"members\":[{\"address\":\"10.0.0.5\",\"protocol_port\":80}]}",
			   NULL);
	memset(it, 0x5a, sizeof(it));
	P->create_members(prov, mock_call(), &subnet_target, ms, 1, it, &res);
	tap_ok(it[0].outcome == LBR_OUT_INVALID && strstr(it[0].message, "(none)"),
	       "entry with neither ret_status nor id: refused (%s)", it[0].message);

	/* No subnet_id: v3 leaves subnet_cidr_id out. */
	mock_push_response(200, "{\"members\":[]}", NULL);
	P->create_members(prov, mock_call(), &target, &ms[1], 1, it, &res);
	tap_is_str(mock_request_at(mock_n_requests() - 1)->body,
		   "{\"members\":[{\"address\":\"2001:db8::7\","
		   "\"protocol_port\":8080}]}",
		   "batch-add without subnet_id");
	tap_is_int(it[0].outcome, LBR_OUT_UNSET, "empty answer: item unset");

	before = mock_n_requests();
	P->create_members(prov, mock_call(), &target, &bad, 1, it, &res);
	tap_is_int(res.outcome, LBR_OUT_INVALID, "resource= refused");
	tap_is_int(mock_n_requests(), before, "resource=: no request");
	P->close(prov);
}

static void test_weights(void)
{
	struct lbr_member_ref m = { M1, "10.0.0.1", 80, 9, -1 };
	struct lbr_member_ref two[2] = { { M1, "10.0.0.1", 80, 9, -1 },
					 { M2, "10.0.0.2", 80, 9, -1 } };
	struct lbr_item_result it[2];
	struct lbr_call_result res;
	int w0 = 0, w55 = 55, w101 = 101, ws[2] = { 1, 2 };
	void *prov;
	size_t before;

	/* v3: PUT per member, weight 0 written out. */
	mock_reset();
	mock_set_now(NOW);
	prov = open_api("v3", NULL);
	mock_push_response(200, "{\"member\":{\"id\":\"" M1 "\"}}", NULL);
	P->set_weights(prov, mock_call(), &target, &m, &w0, 1, it, &res);
	tap_is_str(mock_request_at(0)->method, "PUT", "v3 weight: PUT");
	tap_is_str(mock_request_at(0)->url, BASE V3POOL "/" M1, "v3 weight: member URL");
	tap_is_str(mock_request_at(0)->body, "{\"member\":{\"weight\":0}}",
		   "v3 weight 0 sent explicitly");
	verify_signature(0, "PUT", "elb.example.test", V3POOL "/" M1, NULL, 0,
			 "{\"member\":{\"weight\":0}}", "v3 weight");
	tap_ok(res.outcome == LBR_OUT_OK && it[0].outcome == LBR_OUT_OK, "v3 weight: OK");
	mock_push_response(200, "{}", NULL);
	P->drain_members(prov, mock_call(), &target, &m, 1, 1, it, &res);
	tap_is_str(mock_request_at(1)->body, "{\"member\":{\"weight\":0}}", "v3 drain: weight 0");
	mock_push_response(200, "{}", NULL);
	P->drain_members(prov, mock_call(), &target, &m, 1, 0, it, &res);
	tap_is_str(mock_request_at(2)->body, "{\"member\":{\"weight\":9}}",
		   "v3 undrain: observed weight restored");
	mock_push_response(404,
			   "{\"error_msg\":\"member could not be found.\","
			   "\"error_code\":\"ELB.8904\",\"request_id\":\"r\"}",
			   NULL);
	P->set_weights(prov, mock_call(), &target, &m, &w55, 1, it, &res);
	tap_ok(res.outcome == LBR_OUT_OK && it[0].outcome == LBR_OUT_NOT_FOUND,
	       "v3 weight 404: item NOT_FOUND");
	tap_is_str(res.code, "ELB.8904", "v3 weight 404: code");
	before = mock_n_requests();
	P->set_weights(prov, mock_call(), &target, &m, &w101, 1, it, &res);
	tap_ok(res.outcome == LBR_OUT_INVALID && it[0].outcome == LBR_OUT_INVALID,
	       "weight 101 refused");
	P->set_weights(prov, mock_call(), &target, two, ws, 2, it, &res);
	tap_is_int(res.outcome, LBR_OUT_INVALID, "two weights in one call refused");
	tap_is_int(mock_n_requests(), before, "no request for refused weights");
	P->close(prov);

	/* v2: the same PUT on the v2 path. */
	mock_reset();
	mock_set_now(NOW);
	prov = open_api("v2", NULL);
	mock_push_response(200, "{}", NULL);
	P->set_weights(prov, mock_call(), &target, &m, &w55, 1, it, &res);
	tap_is_str(mock_request_at(0)->url, BASE "/v2/" PROJ "/elb/pools/" POOL "/members/" M1,
		   "v2 weight: URL");
	tap_is_str(mock_request_at(0)->body, "{\"member\":{\"weight\":55}}", "v2 weight 55 body");
	mock_push_response(200, "{}", NULL);
	P->set_weights(prov, mock_call(), &target, &m, &w0, 1, it, &res);
	tap_is_str(mock_request_at(1)->body, "{\"member\":{\"weight\":0}}",
		   "v2 weight 0 sent explicitly");
	tap_ok(res.outcome == LBR_OUT_OK && it[0].outcome == LBR_OUT_OK, "v2 weight: OK");
	P->close(prov);
}

static void test_v2_create(void)
{
	struct lbr_member_spec full = { "10.0.0.5", 80, 0, "web-a", NULL };
	struct lbr_member_spec bare = { "10.0.0.6", 81, -1, NULL, NULL };
	static const char *const body =
		"{\"member\":{\"address\":\"10.0.0.5\",\"protocol_port\":80,"
		"\"subnet_id\":\"" SUBNET "\",\"weight\":0,\"name\":\"web-a\"}}";
	const char *path = "/v2/" PROJ "/elb/pools/" POOL "/members";
	struct lbr_member_spec two[2];
	struct lbr_item_result it[2];
	struct lbr_call_result res;
	size_t before;
	void *prov;

	mock_reset();
	mock_set_now(NOW);
	prov = open_api(NULL, NULL);
	mock_push_response(201,
			   "{\"member\":{\"id\":\"" M1 "\",\"address\":"
			   "\"10.0.0.5\",\"protocol_port\":80,\"weight\":0}}",
			   NULL);
	memset(it, 0x5a, sizeof(it));
	tap_is_int(P->create_members(prov, mock_call(), &subnet_target, &full, 1, it, &res), 0,
		   "v2 create returns 0");
	tap_is_str(mock_request_at(0)->method, "POST", "v2 create: POST");
	tap_is_str(mock_request_at(0)->url, BASE "/v2/" PROJ "/elb/pools/" POOL "/members",
		   "v2 create: URL");
	tap_is_str(mock_request_at(0)->body, body,
		   "v2 create: body with subnet_id, weight 0, name");
	verify_signature(0, "POST", "elb.example.test", path, NULL, 0, body, "v2 create");
	tap_ok(res.outcome == LBR_OUT_OK && it[0].outcome == LBR_OUT_OK, "v2 create 201: OK");
	tap_is_str(it[0].id, M1, "v2 create: new member id");
	tap_is_str(it[0].message, "", "v2 create: no item message");

	mock_push_response(201, "{\"member\":{}}", NULL);
	P->create_members(prov, mock_call(), &subnet_target, &bare, 1, it, &res);
	tap_is_str(mock_request_at(1)->body,
		   "{\"member\":{\"address\":\"10.0.0.6\",\"protocol_port\":81,"
		   "\"subnet_id\":\"" SUBNET "\"}}",
		   "v2 create: undeclared weight and name left out");
	tap_ok(it[0].outcome == LBR_OUT_OK && it[0].id[0] == '\0',
	       "v2 create: no id in the answer is fine");

	mock_push_response(409,
			   "{\"error\":{\"message\":\"member exists\","
			   "\"code\":\"ELB.8907\"}}",
			   NULL);
	P->create_members(prov, mock_call(), &subnet_target, &full, 1, it, &res);
	tap_is_int(res.outcome, LBR_OUT_OK, "v2 create 409: call OK");
	tap_is_int(it[0].outcome, LBR_OUT_EXISTS, "v2 create 409: EXISTS");
	tap_is_str(res.code, "ELB.8907", "v2 create 409: code");
	tap_is_int(res.http_status, 409, "v2 create 409: status");

	mock_push_response(409,
			   "{\"error_msg\":\"Quota exceeded\",\"error_code\":"
			   "\"ELB.8905\"}",
			   NULL);
	P->create_members(prov, mock_call(), &subnet_target, &full, 1, it, &res);
	tap_is_int(res.outcome, LBR_OUT_INVALID, "409 quota: INVALID");

	mock_push_response(429,
			   "{\"error_msg\":\"slow down\",\"error_code\":"
			   "\"APIGW.0308\"}",
			   NULL);
	P->create_members(prov, mock_call(), &subnet_target, &full, 1, it, &res);
	tap_is_int(res.outcome, LBR_OUT_THROTTLED, "v2 create 429: THROTTLED");

	before = mock_n_requests();
	P->create_members(prov, mock_call(), &target, &full, 1, it, &res);
	tap_ok(res.outcome == LBR_OUT_INVALID && strstr(res.message, "subnet_id"),
	       "v2 create without subnet_id refused (%s)", res.message);
	two[0] = full;
	two[1] = bare;
	P->create_members(prov, mock_call(), &subnet_target, two, 2, it, &res);
	tap_is_int(res.outcome, LBR_OUT_INVALID, "v2 create: batch of 2 refused");
	tap_is_int(mock_n_requests(), before, "refused creations: no request");
	P->close(prov);
}

/* The shared helpers, on cases the Huawei paths above do not reach. */
static void test_provcommon(void)
{
	struct lbr_pc_endpoint ep;
	char buf[32], err[256];
	char id129[130];

	tap_is_int(lbr_pc_parse_endpoint("https://api.example.test/a/b//", LBR_PC_EP_PATH, &ep, err,
					 sizeof(err)),
		   0, "endpoint with a path, when allowed");
	tap_is_str(ep.base, "https://api.example.test", "path: base");
	tap_is_str(ep.host, "api.example.test", "path: host");
	tap_is_str(ep.path, "/a/b", "path: trailing slashes dropped");
	lbr_pc_endpoint_free(&ep);
	tap_is_int(lbr_pc_parse_endpoint("HTTP://h.example:80/", 0, &ep, err, sizeof(err)), 0,
		   "upper-case scheme, default port");
	tap_ok(ep.base && !strcmp(ep.base, "http://h.example") && !strcmp(ep.path, ""),
	       "scheme lower-cased, port 80 dropped, no path");
	lbr_pc_endpoint_free(&ep);
	tap_ok(lbr_pc_parse_endpoint("https://h.example/a b", LBR_PC_EP_PATH, &ep, err,
				     sizeof(err)) == LBR_EINVAL &&
		       ep.base == NULL,
	       "space in an endpoint refused (%s)", err);
	tap_ok(lbr_pc_parse_endpoint("https://h.example/a#f", LBR_PC_EP_PATH, &ep, err,
				     sizeof(err)) == LBR_EINVAL,
	       "fragment refused even with a path (%s)", err);
	tap_ok(lbr_pc_parse_endpoint("https://[zz]:1", 0, &ep, err, sizeof(err)) == LBR_EINVAL &&
		       strstr(err, "IPv6"),
	       "malformed IPv6 literal refused (%s)", err);
	tap_ok(lbr_pc_parse_endpoint("https://:443", 0, &ep, err, sizeof(err)) == LBR_EINVAL &&
		       strstr(err, "host"),
	       "no host name refused (%s)", err);

	memset(id129, 'a', 129);
	id129[129] = '\0';
	tap_ok(!lbr_pc_valid_id(id129, 128) && lbr_pc_valid_id(id129 + 1, 128),
	       "ids: 128 characters valid, 129 not");
	tap_ok(!lbr_pc_valid_id("", 128) && !lbr_pc_valid_id(NULL, 128) &&
		       !lbr_pc_valid_id("a.b", 128),
	       "ids: empty, NULL and '.' invalid");
	{
		unsigned c, bad = 0;
		char one[2] = { 0, 0 };

		for (c = 1; c < 256; c++) {
			int want = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
				   (c >= '0' && c <= '9') || c == '_' || c == '-';

			one[0] = (char)c;
			bad += lbr_pc_valid_id(one, 128) != want;
		}
		tap_ok(bad == 0, "lbr_pc_valid_id takes exactly [A-Za-z0-9_-] (every byte value)");
	}

	/* A cut inside a two-byte character drops it whole. */
	lbr_pc_copy_clean(buf, 5, "abc\xc3\xa9z");
	tap_is_str(buf, "abc", "copy_clean cuts on a UTF-8 boundary");
	lbr_pc_copy_clean(buf, sizeof(buf), "a\r\nb\x7f");
	tap_is_str(buf, "a  b ", "copy_clean blanks control characters");

	snprintf(buf, sizeof(buf), "x KEY y KEY");
	lbr_pc_redact(buf, sizeof(buf), "KEY", "***");
	tap_is_str(buf, "x *** y ***", "redact masks every occurrence");
	snprintf(buf, 8, "abKEYcd");
	lbr_pc_redact(buf, 8, "KEY", "[REDACTED]");
	tap_ok(!strstr(buf, "KEY") && strlen(buf) == 7,
	       "redact cuts when the mask does not fit (%s)", buf);
	tap_is_str(lbr_pc_outcome_name(LBR_OUT_EXISTS), "exists", "outcome names");
}

/* Collects what the member reader hands over, as "id address port weight
 * name instance type" lines. */
struct collected {
	char text[1024];
	int calls;
};

static int collect(void *ctx, const struct lbr_hw_member *m)
{
	struct collected *c = ctx;
	size_t used = strlen(c->text);

	snprintf(c->text + used, sizeof(c->text) - used, "%s %s %u %d %s %s %s\n", m->id,
		 m->address, m->port, m->weight, m->name ? m->name : "-",
		 m->instance_id ? m->instance_id : "-", m->type ? m->type : "-");
	c->calls++;
	return 0;
}

/* The list-page reader (its own JSON reader, not json-c): the details a
 * tree parser gave for free — repeated keys, escapes, numbers, unknown
 * fields of any shape — and that nothing is handed over from a page that
 * is refused. */
static void test_member_reader(void)
{
	static const struct {
		const char *body;
		int r;
		const char *want; /* collected text, or a piece of err */
	} cases[] = {
		/* A repeated key: the last value counts, as with json-c. */
		{ "{\"members\":[{\"id\":\"x\",\"id\":\"m1\",\"address\":\"10.0.0.1\","
		  "\"protocol_port\":\"80\",\"protocol_port\":80,\"weight\":5,\"weight\":7}],"
		  "\"page_info\":{}}",
		  0, "m1 10.0.0.1 80 7 - - -\n" },
		/* The last "members" array counts. */
		{ "{\"members\":[{\"id\":\"old\"}],\"page_info\":{},\"members\":[]}", 0, "" },
		/* Escapes decode; unknown fields of every shape are skipped. */
		{ "{\"request_id\":\"r\",\"members\":[{\"id\":\"m\\u0032\",\"address\":"
		  "\"fd00::\\u0031\",\"protocol_port\":443,\"name\":\"caf\\u00e9\",\"status\":"
		  "[{\"listener_id\":\"l\",\"x\":{\"y\":[1,2.5,-3e2,true,false,null]}}],"
		  "\"instance_id\":\"\",\"member_type\":\"instance\",\"weight\":101}],"
		  "\"page_info\":{\"previous_marker\":\"a\",\"current_count\":1}}",
		  0, "m2 fd00::1 443 -1 caf\xc3\xa9 - instance\n" },
		/* null optional fields; an unknown member_type is unknown. */
		{ "{\"members\":[{\"id\":\"m3\",\"address\":\"10.0.0.3\",\"protocol_port\":1,"
		  "\"name\":null,\"instance_id\":null,\"member_type\":\"pod\",\"weight\":1.5}],"
		  "\"page_info\":null}",
		  0, "m3 10.0.0.3 1 -1 - - -\n" },
		/* A bad value repeated with a good one: the last counts. */
		{ "{\"members\":[{\"id\":\"m4\",\"address\":\"a\",\"protocol_port\":2,"
		  "\"name\":5,\"name\":\"ok\"}],\"page_info\":{}}",
		  0, "m4 a 2 -1 ok - -\n" },
		{ "{\"members\":[{\"id\":\"m5\",\"address\":\"a\",\"protocol_port\":2,"
		  "\"name\":\"ok\",\"name\":5}],\"page_info\":{}}",
		  LBR_HW_PARSE_SHAPE, "is not a string" },
		/* Syntax is judged before shape, even past a bad member. */
		{ "{\"members\":[{\"id\":7}],\"page_info\":{},\"x\":[1,]}", LBR_HW_PARSE_SYNTAX,
		  "not valid JSON" },
		{ "{\"members\":[{\"id\":\"m6\",\"address\":\"a\",\"protocol_port\":2}],"
		  "\"page_info\":{}} {}",
		  LBR_HW_PARSE_SYNTAX, "not valid JSON" },
		/* A NUL in an id is not cut short: U+FFFD, a malformed id. */
		{ "{\"members\":[{\"id\":\"m1\\u0000zz\",\"address\":\"a\",\"protocol_port\":1}],"
		  "\"page_info\":{}}",
		  LBR_HW_PARSE_SHAPE, "malformed id" },
		/* A lone surrogate in a name is valid JSON: accepted. */
		{ "{\"members\":[{\"id\":\"m11\",\"address\":\"a\",\"protocol_port\":1,"
		  "\"name\":\"x\\ud800\"}],\"page_info\":{}}",
		  0, "m11 a 1 -1 x\xef\xbf\xbd - -\n" },
		/* Not JSON: the reader's reason, not "truncated?". */
		{ "{\"members\":[],\"x\":\"a\tb\"}", LBR_HW_PARSE_SYNTAX,
		  "not valid JSON (control character in a string)" },
		{ "[]", LBR_HW_PARSE_SHAPE, "not a JSON object" },
		{ "{\"members\":{}}", LBR_HW_PARSE_SHAPE, "no \"members\" array" },
		{ "{\"members\":[1]}", LBR_HW_PARSE_SHAPE, "member 0 is not a JSON object" },
		/* Ports: out of range (even past 64 bits) and non-integers. */
		{ "{\"members\":[{\"id\":\"m7\",\"address\":\"a\","
		  "\"protocol_port\":99999999999999999999}]}",
		  LBR_HW_PARSE_SHAPE, "out of range" },
		{ "{\"members\":[{\"id\":\"m8\",\"address\":\"a\",\"protocol_port\":0}]}",
		  LBR_HW_PARSE_SHAPE, "protocol_port 0 out of range" },
		{ "{\"members\":[{\"id\":\"m9\",\"address\":\"a\",\"protocol_port\":80.0}]}",
		  LBR_HW_PARSE_SHAPE, "no integer \"protocol_port\"" },
		{ "{\"members\":[{\"id\":\"m10\",\"address\":\"\",\"protocol_port\":80}]}",
		  LBR_HW_PARSE_SHAPE, "no string \"address\"" },
		/* A bad second member: nothing of the first is handed over. */
		{ "{\"members\":[{\"id\":\"ok\",\"address\":\"a\",\"protocol_port\":1},"
		  "{\"id\":\"b/d\",\"address\":\"a\",\"protocol_port\":1}],\"page_info\":{}}",
		  LBR_HW_PARSE_SHAPE, "member 1 has a malformed id 'b/d'" },
		{ "{\"members\":[],\"page_info\":{\"next_marker\":true}}", LBR_HW_PARSE_SHAPE,
		  "next_marker is not a string" },
		{ "{\"members\":[],\"page_info\":{\"next_marker\":1,\"next_marker\":\"nm\"}}", 0,
		  "" },
	};
	struct lbr_hw_page pg;
	struct collected c;
	char err[256];
	size_t i;
	int r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&c, 0, sizeof(c));
		r = lbr_hw_parse_members_v3(cases[i].body, strlen(cases[i].body), "", 2000, collect,
					    &c, &pg, err, sizeof(err));
		tap_is_int(r, cases[i].r, "reader case %zu: result (%s)", i, err);
		if (cases[i].r == 0) {
			tap_is_str(c.text, cases[i].want, "reader case %zu: members", i);
		} else {
			tap_ok(strstr(err, cases[i].want) != NULL, "reader case %zu: '%s' in '%s'",
			       i, cases[i].want, err);
			tap_is_int(c.calls, 0, "reader case %zu: nothing handed over", i);
		}
	}
	/* The last case is an empty page: its marker is not followed. */
	tap_is_str(pg.next_marker, "", "empty page: its next_marker is not followed");
	{
		const char body[] = "{\"members\":[{\"id\":\"m1\",\"address\":\"a\","
				    "\"protocol_port\":1}],\"page_info\":{\"next_marker\":1,"
				    "\"next_marker\":\"nm\"}}";

		memset(&c, 0, sizeof(c));
		r = lbr_hw_parse_members_v3(body, strlen(body), "", 2000, collect, &c, &pg, err,
					    sizeof(err));
		tap_ok(r == 0 && c.calls == 1,
		       "page of one member with a repeated next_marker (%s)", err);
		tap_is_str(pg.next_marker, "nm", "repeated next_marker: the last counts");
	}

	/* The body is not written to (the reader decodes in its own copy). */
	{
		const char body[] = "{\"members\":[{\"id\":\"m\\u0031\",\"address\":\"a\","
				    "\"protocol_port\":1}]}";
		char copy[sizeof(body)];
		size_t count;
		char last[130];

		memcpy(copy, body, sizeof(body));
		memset(&c, 0, sizeof(c));
		r = lbr_hw_parse_members(copy, strlen(copy), collect, &c, &count, last,
					 sizeof(last), err, sizeof(err));
		tap_is_int(r, 0, "v2 reader: parsed");
		tap_is_str(last, "m1", "v2 reader: last id decoded");
		tap_ok(memcmp(copy, body, sizeof(body)) == 0, "v2 reader: body left untouched");
	}
}

int main(void)
{
	test_entry();
	test_open_errors();
	test_check_target();
	test_list_request();
	test_paging();
	test_bad_pages();
	test_error_shapes();
	test_classification();
	test_remove_and_drain();
	test_token_and_secrets();
	test_instance_info();
	test_check_create();
	test_v3_list();
	test_v3_remove();
	test_v3_create();
	test_weights();
	test_v2_create();
	test_provcommon();
	test_member_reader();
	mock_reset();
	return tap_done();
}

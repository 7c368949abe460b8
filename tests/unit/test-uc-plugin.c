/*
 * The ucloud plugin driven through the mock host: the exact requests it
 * builds and how it classifies every kind of answer.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lbreconcile/provider.h"
#include "tests/unit/mockhost.h"
#include "tests/unit/tap.h"
#include "ucsign.h"

const struct lbr_provider *lbr_provider_entry(uint32_t, uint32_t);

#define PUB "ucloudsomeone@example.com1296235120854146120"
#define PRIV "46f09bb9fab4f12dfc160dae12273d5332b5debe"
#define ULB "ulb-4xq1pxnh"
#define VS "vserver-2tggsm1b"
#define MATCH "/api/\xe7\x94\xa8\xe6\x88\xb7/v1?a=1&b=2 c+d%"

static const struct lbr_provider *P;
static void *prov;

static const struct lbr_kv target_kv[] = {
	{ "ulb_id", ULB },
	{ "vserver_id", VS },
};
static const struct lbr_target target = {
	.pool_name = "api",
	.kv = target_kv,
	.n = 2,
};
static struct lbr_instance_info info;

/* ---- helpers ---------------------------------------------------------- */

static char *read_fixture(const char *name)
{
	const char *dir = getenv("top_srcdir");
	char path[4096];
	FILE *f;
	char *buf;
	long n;

	if (!dir)
		dir = UC_TEST_SRCDIR;
	snprintf(path, sizeof(path), "%s/tests/fixtures/uc/%s", dir, name);
	f = fopen(path, "rb");
	if (!f) {
		printf("Bail out! cannot open %s\n", path);
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		exit(1);
	fclose(f);
	return buf;
}

/* A decoded form body. */
struct form {
	char *k[64];
	char *v[64];
	size_t n;
	int sorted; /* keys in plain byte order, Signature last */
};

static void form_parse(const char *body, struct form *f)
{
	const struct lbr_host *h = mock_host();
	const char *s = body;
	size_t i;

	memset(f, 0, sizeof(*f));
	while (s && *s && f->n < 64) {
		const char *amp = strchr(s, '&'), *eq;
		size_t len = amp ? (size_t)(amp - s) : strlen(s), dl;

		eq = memchr(s, '=', len);
		if (!eq)
			break;
		f->k[f->n] = h->url_decode(s, (size_t)(eq - s), &dl);
		f->v[f->n] = h->url_decode(eq + 1, len - (size_t)(eq - s) - 1, &dl);
		f->n++;
		s = amp ? amp + 1 : NULL;
	}
	f->sorted = f->n > 0 && strcmp(f->k[f->n - 1], "Signature") == 0;
	for (i = 1; i + 1 < f->n; i++)
		if (strcmp(f->k[i - 1], f->k[i]) >= 0)
			f->sorted = 0;
}

static void form_free(struct form *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		free(f->k[i]);
		free(f->v[i]);
	}
}

static const char *form_get(const struct form *f, const char *k)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->k[i], k) == 0)
			return f->v[i];
	return NULL;
}

/* Recompute the signature of everything but Signature. */
static int form_sig_ok(const struct form *f, const char *priv)
{
	struct lbr_uc_params p;
	char hex[41] = "";
	const char *got = form_get(f, "Signature");
	size_t i;
	int ok;

	lbr_uc_params_init(&p);
	for (i = 0; i < f->n; i++)
		if (strcmp(f->k[i], "Signature") != 0)
			lbr_uc_params_add(&p, f->k[i], f->v[i]);
	lbr_uc_sign(&p, priv, hex);
	ok = got && strcmp(got, hex) == 0;
	lbr_uc_params_release(&p);
	return ok;
}

/* Check that exactly the given params (NULL-terminated key, value list)
 * plus the common ones and a valid Signature were sent. */
static void check_form(const char *what, size_t req, const char *const *kv)
{
	const struct mock_request *r = mock_request_at(req);
	struct form f;
	size_t i, want = 5; /* Region ProjectId PublicKey Signature + Action */
	int all = 1;

	if (!r || !r->body) {
		tap_ok(0, "%s: request %zu has a body", what, req);
		return;
	}
	form_parse(r->body, &f);
	tap_is_str(form_get(&f, "Region"), "cn-bj2", "%s: Region", what);
	tap_is_str(form_get(&f, "ProjectId"), "org-abc123", "%s: ProjectId", what);
	tap_is_str(form_get(&f, "PublicKey"), PUB, "%s: PublicKey", what);
	for (i = 0; kv[i]; i += 2) {
		const char *v = form_get(&f, kv[i]);

		if (strcmp(kv[i], "Action") != 0)
			want++;
		if (!v || strcmp(v, kv[i + 1]) != 0) {
			printf("#   %s: got '%s', want '%s'\n", kv[i], v ? v : "(absent)",
			       kv[i + 1]);
			all = 0;
		}
	}
	tap_ok(all, "%s: every operation parameter as expected", what);
	tap_is_int((long long)f.n, (long long)want, "%s: no other parameter sent", what);
	tap_ok(f.sorted, "%s: parameters sorted, Signature last", what);
	tap_ok(form_sig_ok(&f, PRIV), "%s: signature verifies", what);
	form_free(&f);
}

/* No secret in anything the plugin hands back or logs. */
static void check_no_secret(const char *what, const struct lbr_call_result *res)
{
	const char *log = mock_last_log();
	int leak = 0;

	if (strstr(res->message, PUB) || strstr(res->message, PRIV) || strstr(res->code, PUB) ||
	    strstr(res->request_id, PUB) || strstr(log, PUB) || strstr(log, PRIV) ||
	    strstr(res->message, "someone@"))
		leak = 1;
	tap_ok(!leak, "%s: no key in result or log", what);
}

static int open_with(const char *endpoint, void **out, char *err, size_t errlen)
{
	struct lbr_kv cfg[8];
	size_t n = 0;

	if (endpoint)
		cfg[n++] = (struct lbr_kv){ "endpoint", endpoint };
	cfg[n++] = (struct lbr_kv){ "region", "cn-bj2" };
	cfg[n++] = (struct lbr_kv){ "project_id", "org-abc123" };
	cfg[n++] = (struct lbr_kv){ "public_key", PUB };
	cfg[n++] = (struct lbr_kv){ "private_key", PRIV };
	memset(&info, 0, sizeof(info));
	info.struct_size = sizeof(info);
	return P->open(mock_host(), cfg, n, out, &info, err, errlen);
}

/* One DescribeVServer page answered with `body`; returns the outcome. */
static int list_with(long status, const char *body, const char *cursor, struct lbr_call_result *res,
		     char *next, size_t nlen)
{
	mock_reset();
	mock_push_response(status, body, NULL);
	memset(res, 0xaa, sizeof(*res));
	if (P->list_page(prov, mock_call(), &target, cursor, mock_obs(), next, nlen, res) != 0)
		return -1;
	return (int)res->outcome;
}

/* ---- tests ------------------------------------------------------------ */

static void test_entry(void)
{
	const struct lbr_key_spec *k;
	unsigned region = 0, project = 0, priv = 0, pub = 0, ulb = 0;
	unsigned vpc = 0, subnet = 0;

	P = lbr_provider_entry(LBR_PROVIDER_ABI_MAJOR, LBR_PROVIDER_ABI_MINOR);
	tap_ok(P != NULL, "entry returns a provider");
	tap_is_str(P->name, "ucloud", "name");
	tap_is_int(P->abi_major, 2, "abi major");
	tap_is_int(P->abi_minor, 0, "abi minor");
	tap_is_int(P->struct_size, sizeof(struct lbr_provider), "struct size");
	tap_ok(P->caps == (LBR_CAP_RULES | LBR_CAP_DRAIN | LBR_CAP_CREATE | LBR_CAP_WEIGHT |
			   LBR_CAP_COOPERATIVE),
	       "caps rules+drain+create+weight+cooperative");
	tap_ok(P->update_rule && P->drain_members && P->list_page && P->remove_members &&
		       P->create_members && P->set_weights && P->open && P->close &&
		       P->check_target,
	       "all operations set");
	for (k = P->provider_keys; k->name; k++) {
		/* The core declares and consumes its own transport keys. */
		tap_ok(strcmp(k->name, "ca_file") && strcmp(k->name, "allow_insecure_http") &&
			       strcmp(k->name, "timeout"),
		       "provider key %s is not a core key", k->name);
		if (!strcmp(k->name, "region"))
			region = k->flags;
		if (!strcmp(k->name, "project_id"))
			project = k->flags;
		if (!strcmp(k->name, "public_key"))
			pub = k->flags;
		if (!strcmp(k->name, "private_key"))
			priv = k->flags;
	}
	for (k = P->pool_keys; k->name; k++) {
		if (!strcmp(k->name, "ulb_id"))
			ulb = k->flags;
		if (!strcmp(k->name, "vpc_id"))
			vpc = k->flags | 0x100;
		if (!strcmp(k->name, "subnet_id"))
			subnet = k->flags | 0x100;
	}
	tap_ok(vpc == (LBR_KEY_ID | 0x100) && subnet == (LBR_KEY_ID | 0x100),
	       "vpc_id and subnet_id: optional id pool keys");
	tap_ok(region & LBR_KEY_REQUIRED, "region required");
	tap_ok((project & LBR_KEY_REQUIRED) && (project & LBR_KEY_ID), "project_id required id");
	tap_ok((pub & LBR_KEY_SECRET) && (priv & LBR_KEY_SECRET) && (priv & LBR_KEY_REQUIRED),
	       "keys are required secrets");
	tap_ok((ulb & LBR_KEY_REQUIRED) && (ulb & LBR_KEY_ID), "ulb_id required id");
}

static void test_open_errors(void)
{
	static const struct {
		const char *drop, *key, *value, *want;
	} cases[] = {
		{ "region", NULL, NULL, "region" },
		{ "project_id", NULL, NULL, "project_id" },
		{ "public_key", NULL, NULL, "public_key" },
		{ "private_key", NULL, NULL, "private_key" },
		{ "project_id", "project_id", "org abc/1", "project_id" },
		{ "region", "region", "cn bj2", "region" },
		{ NULL, "endpoint", "ftp://api.ucloud.cn", "endpoint" },
		{ NULL, "endpoint", "https://api.ucloud.cn/?x=1", "endpoint" },
		{ NULL, "endpoint", "https://", "endpoint" },
		/* User information is refused without echoing it. */
		{ NULL, "endpoint", "https://someone:" PRIV "@api.ucloud.cn", "user information" },
		{ NULL, "endpoint", "https://api.ucloud.cn:99999", "port" },
		{ NULL, "endpoint", "https://api.ucloud.cn#x", "fragment" },
		{ "private_key", "private_key", "", "private_key" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct lbr_kv base[] = {
			{ "region", "cn-bj2" },
			{ "project_id", "org-abc123" },
			{ "public_key", PUB },
			{ "private_key", PRIV },
		};
		struct lbr_kv cfg[6];
		size_t n = 0, j;
		char err[256] = "";
		void *pv = (void *)1;
		int r;

		for (j = 0; j < 4; j++)
			if (!cases[i].drop || strcmp(base[j].key, cases[i].drop))
				cfg[n++] = base[j];
		if (cases[i].key)
			cfg[n++] = (struct lbr_kv){ cases[i].key, cases[i].value };
		r = P->open(mock_host(), cfg, n, &pv, &info, err, sizeof(err));
		tap_ok(r < 0 && pv == NULL && strstr(err, cases[i].want) && !strstr(err, PUB) &&
			       !strstr(err, PRIV),
		       "open refuses bad %s (%s)", cases[i].want, err);
	}

	{
		struct lbr_kv dup[] = {
			{ "region", "cn-bj2" },         { "region", "cn-sh2" },
			{ "project_id", "org-abc123" }, { "public_key", PUB },
			{ "private_key", PRIV },
		};
		char err[256] = "";
		void *pv = NULL;

		tap_ok(P->open(mock_host(), dup, 5, &pv, &info, err, sizeof(err)) < 0,
		       "duplicate key refused (%s)", err);
	}
}

static void test_check_create(void);

static void test_check_target(void)
{
	struct lbr_kv bad1[] = { { "ulb_id", ULB } };
	struct lbr_kv bad2[] = { { "ulb_id", "ulb 1" }, { "vserver_id", VS } };
	struct lbr_target t1 = { .pool_name = "p", .kv = bad1, .n = 1 };
	struct lbr_target t2 = { .pool_name = "p", .kv = bad2, .n = 2 };
	char err[256] = "";

	tap_is_int(P->check_target(prov, &target, err, sizeof(err)), 0,
		   "check_target accepts ulb_id + vserver_id");
	tap_ok(P->check_target(prov, &t1, err, sizeof(err)) < 0 && strstr(err, "vserver_id"),
	       "missing vserver_id (%s)", err);
	tap_ok(P->check_target(prov, &t2, err, sizeof(err)) < 0 && strstr(err, "ulb_id"),
	       "malformed ulb_id (%s)", err);
	test_check_create();
}

static void test_list(void)
{
	static const char *const rid[] = {
		"X-UCLOUD-REQUEST-UUID: 7d3c4c1e-aaaa-bbbb",
		NULL,
	};
	static const char *const want[] = {
		"Action", "DescribeVServer", "ULBId", ULB,  "VServerId", VS, "Offset",
		"0",      "Limit",           "100",   NULL,
	};
	struct lbr_call_result res;
	const struct mock_request *rq;
	const struct mock_member *m;
	const struct mock_rule *ru;
	char next[32] = "x";
	char *body = read_fixture("describe-vserver.json");
	size_t i;
	int r;

	mock_reset();
	mock_push_response(200, body, rid);
	r = P->list_page(prov, mock_call(), &target, "", mock_obs(), next, sizeof(next), &res);
	tap_is_int(r, 0, "list_page returns 0");
	tap_is_int(res.outcome, LBR_OUT_OK, "list_page OK (%s)", res.message);
	tap_is_int(res.http_status, 200, "http status recorded");
	tap_is_str(res.request_id, "7d3c4c1e-aaaa-bbbb", "request id");
	tap_is_str(next, "", "single page");
	tap_is_int(mock_n_requests(), 1, "one request");
	rq = mock_request_at(0);
	tap_is_str(rq->method, "POST", "POST");
	tap_is_str(rq->url, "https://api.ucloud.cn/", "default endpoint, root");
	tap_is_str(mock_request_header(0, "Content-Type"), "application/x-www-form-urlencoded",
		   "form content type");
	tap_is_str(mock_request_header(0, "Accept"), "application/json", "Accept json");
	check_form("DescribeVServer", 0, want);
	check_no_secret("list", &res);

	tap_is_int(mock_n_members(), 3, "three backends");
	m = mock_member_at(0);
	tap_ok(m && !strcmp(m->id, "backend-aaaa0001") && !strcmp(m->address, "10.0.1.5") &&
		       m->port == 8080 && m->weight == 10 && m->enabled == 1,
	       "backend 1 fields");
	m = mock_member_at(1);
	tap_ok(m && !strcmp(m->id, "backend-aaaa0002") && !strcmp(m->address, "10.0.1.6") &&
		       m->port == 8080 && m->weight == 1 && m->enabled == 0,
	       "backend 2 (disabled)");
	m = mock_member_at(2);
	tap_ok(m && !strcmp(m->id, "backend-aaaa0003") && m->port == 9090 && m->weight == -1 &&
		       m->enabled == -1,
	       "backend 3: absent Weight/Enabled are unknown");

	tap_is_int(mock_n_rules(), 2, "Default policy skipped, 2 Custom");
	ru = mock_rule_at(0);
	if (ru) {
		tap_is_str(ru->id, "policy-0a074d02", "rule id");
		tap_is_str(ru->label, "Path \"" MATCH "\" (policy-0a074d02)", "rule label");
		tap_is_int(ru->never_empty, 1, "never_empty");
		tap_ok(ru->n_members == 2 && !strcmp(ru->member_ids[0], "backend-aaaa0001") &&
			       !strcmp(ru->member_ids[1], "backend-aaaa0003"),
		       "rule members from the policy's BackendSet");
		tap_is_int(ru->n_attrs, 4, "four attrs");
		for (i = 0; i < ru->n_attrs && i < 4; i++) {
			static const char *const ek[] = {
				"Type",
				"Match",
				"DomainMatchMode",
				"PolicyPriority",
			};
			static const char *const ev[] = {
				"Path",
				MATCH,
				"Regular",
				"10",
			};
			tap_is_str(ru->attrs[i].key, ek[i], "attr %zu key", i);
			tap_is_str(ru->attrs[i].value, ev[i], "attr %s byte-exact", ek[i]);
		}
	}
	ru = mock_rule_at(1);
	tap_ok(ru && !strcmp(ru->id, "policy-5b1c9e77") && ru->n_attrs == 3 &&
		       !strcmp(ru->attrs[2].value, "Wildcard") && ru->n_members == 1,
	       "domain rule without PolicyPriority");
	free(body);
}

/* Replace the first occurrence of `from` in the fixture by `to`. */
static char *fixture_edit(const char *from, const char *to)
{
	char *b = read_fixture("describe-vserver.json");
	char *hit = strstr(b, from), *out;

	if (!hit) {
		printf("Bail out! fixture lacks '%s'\n", from);
		exit(1);
	}
	out = malloc(strlen(b) - strlen(from) + strlen(to) + 1);
	if (!out)
		exit(1);
	sprintf(out, "%.*s%s%s", (int)(hit - b), b, to, hit + strlen(from));
	free(b);
	return out;
}

static void test_list_variants(void)
{
	struct lbr_call_result res;
	char next[32];
	char *b;

	b = fixture_edit("\"RetCode\": 0", "\"RetCode\": \"0\"");
	tap_is_int(list_with(200, b, "", &res, next, sizeof(next)), LBR_OUT_OK,
		   "RetCode as a string \"0\"");
	tap_is_int(mock_n_members(), 3, "members parsed with string RetCode");
	free(b);

	b = fixture_edit("\"RetCode\": 0", "\"RetCode\": \"4103\"");
	tap_is_int(list_with(200, b, "", &res, next, sizeof(next)), LBR_OUT_INVALID,
		   "RetCode \"4103\" as a string");
	tap_is_str(res.message, "vserver " VS " not found in ulb " ULB, "not-found message");
	free(b);

	b = fixture_edit("\"Port\": 9090", "\"Port\": 70000");
	tap_is_int(list_with(200, b, "", &res, next, sizeof(next)), LBR_OUT_INVALID,
		   "out-of-range port");
	tap_is_int(mock_n_members(), 0, "nothing added from a bad page");
	tap_ok(strstr(res.message, "backend-aaaa0003") != NULL, "message names the backend (%s)",
	       res.message);
	free(b);

	b = fixture_edit("\"TotalCount\": 1", "\"TotalCount\": \"many\"");
	tap_is_int(list_with(200, b, "", &res, next, sizeof(next)), LBR_OUT_INVALID,
		   "TotalCount that is not a number");
	tap_is_int(mock_n_members(), 0, "... adds nothing");
	free(b);

	/* The Default policy without its PolicyType: empty PolicyId. */
	b = fixture_edit("\"PolicyType\": \"Default\",", "");
	tap_is_int(list_with(200, b, "", &res, next, sizeof(next)), LBR_OUT_OK,
		   "policy without PolicyType and with an empty PolicyId");
	tap_is_int(mock_n_rules(), 2, "... is the Default policy, skipped");
	free(b);

	b = fixture_edit("\"PolicyId\": \"policy-0a074d02\"", "\"PolicyId\": \"\"");
	tap_is_int(list_with(200, b, "", &res, next, sizeof(next)), LBR_OUT_INVALID,
		   "Custom policy with an empty PolicyId");
	tap_is_int(mock_n_members() + mock_n_rules(), 0, "... adds nothing");
	free(b);

	/* UpdatePolicy takes 1-9999: a priority outside is never re-sent. */
	b = fixture_edit("\"PolicyPriority\": 10", "\"PolicyPriority\": 0");
	tap_is_int(list_with(200, b, "", &res, next, sizeof(next)), LBR_OUT_OK,
		   "Custom policy with priority 0");
	{
		const struct mock_rule *ru = mock_rule_at(0);

		tap_ok(ru && ru->n_attrs == 3 && strcmp(ru->attrs[2].key, "PolicyPriority") != 0,
		       "... has no PolicyPriority to re-send");
	}
	free(b);

	b = fixture_edit("\"PrivateIP\": \"10.0.1.6\",", "");
	tap_is_int(list_with(200, b, "", &res, next, sizeof(next)), LBR_OUT_INVALID,
		   "backend without PrivateIP");
	free(b);

	b = fixture_edit("\"VServerId\": \"vserver-2tggsm1b\"", "\"VServerId\": \"vserver-other\"");
	tap_is_int(list_with(200, b, "", &res, next, sizeof(next)), LBR_OUT_INVALID,
		   "another VServer returned");
	tap_is_int(mock_n_members(), 0, "its backends are not used");
	free(b);

	/* An API that leaves out an empty array: no backends, the policies
	 * still read (they then protect nothing here). */
	b = fixture_edit("\"BackendSet\": [", "\"Backends\": [");
	tap_is_int(list_with(200, b, "", &res, next, sizeof(next)), LBR_OUT_OK,
		   "VServer without BackendSet");
	tap_is_int(mock_n_members(), 0, "... has no backends");
	tap_is_int(mock_n_rules(), 2, "... and its 2 Custom policies");
	free(b);

	b = fixture_edit("\"BackendSet\": [", "\"BackendSet\": {}, \"Backends\": [");
	tap_is_int(list_with(200, b, "", &res, next, sizeof(next)), LBR_OUT_INVALID,
		   "VServer whose BackendSet is not an array");
	tap_is_str(res.message, "vserver " VS ": BackendSet is not an array", "... says so");
	tap_is_int(mock_n_members() + mock_n_rules(), 0, "... and adds nothing");
	free(b);

	/* TotalCount may count more than the one VServer asked for (every
	 * VServer of the ULB): the page holding it is still the last. */
	b = fixture_edit("\"TotalCount\": 1", "\"TotalCount\": 3");
	strcpy(next, "x");
	tap_is_int(list_with(200, b, "1", &res, next, sizeof(next)), LBR_OUT_OK,
		   "page at offset 1, TotalCount 3");
	tap_is_str(next, "", "no next page once the VServer is found");
	tap_is_int(mock_n_members(), 3, "... with its 3 backends");
	{
		static const char *const want[] = {
			"Action", "DescribeVServer", "Offset", "1",  "Limit", "100", "ULBId",
			ULB,      "VServerId",       VS,       NULL,
		};
		check_form("DescribeVServer offset 1", 0, want);
	}
	free(b);

	mock_reset();
	memset(&res, 0, sizeof(res));
	P->list_page(prov, mock_call(), &target, "abc", mock_obs(), next, sizeof(next), &res);
	tap_ok(res.outcome == LBR_OUT_INVALID && mock_n_requests() == 0,
	       "bad cursor refused before any request");

	b = read_fixture("describe-vserver.json");
	mock_reset();
	mock_set_obs_fail(1);
	mock_push_response(200, b, NULL);
	P->list_page(prov, mock_call(), &target, "", mock_obs(), next, sizeof(next), &res);
	tap_is_int(res.outcome, LBR_OUT_INVALID, "obs_add rejection");
	mock_set_obs_fail(0);
	free(b);
}

static void test_classification(void)
{
	static const struct {
		long status;
		const char *body;
		int want;
		const char *code;
		const char *msg; /* substring of res.message, or NULL */
	} cases[] = {
		{ 429, "", LBR_OUT_THROTTLED, "", "HTTP 429" },
		{ 500, "oops", LBR_OUT_TRANSIENT, "", "HTTP 500" },
		{ 503, "", LBR_OUT_TRANSIENT, "", NULL },
		{ 403, "{\"RetCode\":0}", LBR_OUT_INVALID, "", "HTTP 403" },
		{ 404, "", LBR_OUT_INVALID, "", NULL },
		{ 200, "<html>bad gateway</html>", LBR_OUT_TRANSIENT, "", "unreadable" },
		{ 200, "{\"RetCode\":0,\"DataSet\":[{\"VServerId\":", LBR_OUT_TRANSIENT, "",
		  "unreadable" },
		{ 200, "", LBR_OUT_TRANSIENT, "", NULL },
		{ 200, "{\"Message\":\"x\"}", LBR_OUT_INVALID, "", "RetCode" },
		{ 200, "{\"RetCode\":\"zero\"}", LBR_OUT_INVALID, "", NULL },
		{ 200, "{\"RetCode\":0,\"TotalCount\":1}", LBR_OUT_INVALID, "", "DataSet" },
		{ 200, "{\"RetCode\":0,\"TotalCount\":0,\"DataSet\":[]}", LBR_OUT_INVALID, "",
		  "not found" },
		{ 200, "{\"RetCode\":150,\"Message\":\"busy\"}", LBR_OUT_TRANSIENT, "RetCode.150",
		  "busy" },
		{ 200, "{\"RetCode\":110,\"Message\":\"API response timeout\"}", LBR_OUT_TRANSIENT,
		  "RetCode.110", "timeout" },
		{ 200, "{\"RetCode\":130,\"Message\":\"gateway error\"}", LBR_OUT_TRANSIENT,
		  "RetCode.130", "gateway" },
		{ 200, "{\"RetCode\":153,\"Message\":\"slow down\"}", LBR_OUT_THROTTLED,
		  "RetCode.153", "slow down" },
		{ 200, "{\"RetCode\":2001,\"Message\":\"internal\"}", LBR_OUT_TRANSIENT,
		  "RetCode.2001", NULL },
		{ 200, "{\"RetCode\":170,\"Message\":\"Missing Signature\"}", LBR_OUT_AUTH,
		  "RetCode.170", NULL },
		{ 200, "{\"RetCode\":171,\"Message\":\"Signature VerifyAC Error\"}", LBR_OUT_AUTH,
		  "RetCode.171", "VerifyAC" },
		{ 200, "{\"RetCode\":172,\"Message\":\"User Not Exists\"}", LBR_OUT_AUTH,
		  "RetCode.172", NULL },
		{ 200, "{\"RetCode\":\"174\",\"Message\":\"token\"}", LBR_OUT_AUTH, "RetCode.174",
		  NULL },
		{ 200, "{\"RetCode\":292,\"Message\":\"no such project\"}", LBR_OUT_INVALID,
		  "RetCode.292", "project org-abc123 does not exist" },
		{ 200, "{\"RetCode\":230,\"Message\":\"Params [Limit] not available\"}",
		  LBR_OUT_INVALID, "RetCode.230", "Params [Limit]" },
		{ 200, "{\"RetCode\":4088,\"Message\":\"x\"}", LBR_OUT_INVALID, "RetCode.4088",
		  "vserver " VS " not found in ulb " ULB },
		{ 200, "{\"RetCode\":4143,\"Message\":\"x\"}", LBR_OUT_INVALID, "RetCode.4143",
		  "not found" },
		{ 200, "{\"RetCode\":4103,\"Message\":\"x\"}", LBR_OUT_INVALID, "RetCode.4103",
		  "not found" },
		/* A cloud message echoing the key must not leak it. */
		{ 200, "{\"RetCode\":172,\"Message\":\"User " PUB " Not Exists\"}", LBR_OUT_AUTH,
		  "RetCode.172", "[redacted]" },
	};
	struct lbr_call_result res;
	char next[32];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int o = list_with(cases[i].status, cases[i].body, "", &res, next, sizeof(next));

		tap_is_int(o, cases[i].want, "case %zu: HTTP %ld %.40s -> %d", i, cases[i].status,
			   cases[i].body, cases[i].want);
		if (*cases[i].code)
			tap_is_str(res.code, cases[i].code, "case %zu code", i);
		if (cases[i].msg)
			tap_ok(strstr(res.message, cases[i].msg) != NULL, "case %zu message '%s'",
			       i, res.message);
		tap_is_int(mock_n_members(), 0, "case %zu: no members", i);
		check_no_secret("classification", &res);
	}

	{
		static const char *const ra[] = { "Retry-After: 3", NULL };

		mock_reset();
		mock_push_response(429, "", ra);
		P->list_page(prov, mock_call(), &target, "", mock_obs(), next, sizeof(next), &res);
		tap_ok(res.outcome == LBR_OUT_THROTTLED && res.retry_after_ms == 3000,
		       "429 keeps Retry-After");
	}

	mock_reset();
	mock_push_transport_error(LBR_ETRANSPORT, "connection refused");
	P->list_page(prov, mock_call(), &target, "", mock_obs(), next, sizeof(next), &res);
	tap_ok(res.outcome == LBR_OUT_TRANSIENT && res.http_status == 0 &&
		       strstr(res.message, "connection refused"),
	       "transport error is transient (%s)", res.message);

	mock_reset();
	mock_push_transport_error(LBR_EFATAL, "certificate verify failed");
	P->list_page(prov, mock_call(), &target, "", mock_obs(), next, sizeof(next), &res);
	tap_is_int(res.outcome, LBR_OUT_INVALID, "fatal transport error");
}

/* Run remove_members on one backend with the answer `body`; the item is
 * poisoned first so that a field the plugin forgot shows. */
static void remove_with(const struct lbr_member_ref *m, const char *body,
			struct lbr_item_result *it, struct lbr_call_result *res)
{
	mock_reset();
	if (body)
		mock_push_response(200, body, NULL);
	memset(it, 0x5a, sizeof(*it));
	memset(res, 0x5a, sizeof(*res));
	tap_is_int(P->remove_members(prov, mock_call(), &target, m, 1, it, res), 0,
		   "remove_members returns 0");
}

static void test_remove(void)
{
	static const char *const want[] = {
		"Action", "ReleaseBackend", "ULBId", ULB, "BackendId", "backend-aaaa0002", NULL,
	};
	struct lbr_member_ref m = { "backend-aaaa0002", "10.0.1.6", 8080, 1, 0 };
	struct lbr_member_ref two[2] = {
		{ "backend-aaaa0001", "10.0.1.5", 8080, 1, 1 },
		{ "backend-aaaa0002", "10.0.1.6", 8080, 1, 1 },
	};
	struct lbr_item_result it, its[2];
	struct lbr_call_result res;

	remove_with(&m, "{\"Action\":\"ReleaseBackendResponse\",\"RetCode\":0}", &it, &res);
	tap_is_int(res.outcome, LBR_OUT_OK, "ReleaseBackend: call OK");
	tap_is_int(it.outcome, LBR_OUT_OK, "ReleaseBackend: item OK");
	tap_is_str(it.id, "", "no id for a removal");
	tap_is_str(res.code, "RetCode.0", "code RetCode.0");
	check_form("ReleaseBackend", 0, want);

	remove_with(&m, "{\"RetCode\":4093,\"Message\":\"gone\"}", &it, &res);
	tap_is_int(res.outcome, LBR_OUT_OK, "4093: call answered");
	tap_is_int(it.outcome, LBR_OUT_NOT_FOUND, "4093: item NOT_FOUND");
	tap_is_str(res.code, "RetCode.4093", "code RetCode.4093");
	tap_is_str(it.message, "backend backend-aaaa0002 no longer exists in ulb " ULB,
		   "not-found item message");

	remove_with(&m, "{\"RetCode\":\"4148\",\"Message\":\"gone\"}", &it, &res);
	tap_ok(res.outcome == LBR_OUT_OK && it.outcome == LBR_OUT_NOT_FOUND,
	       "4148 (as a string): item NOT_FOUND");
	tap_is_str(res.code, "RetCode.4148", "code RetCode.4148");

	remove_with(&m, "{\"RetCode\":4110,\"Message\":\"detach\"}", &it, &res);
	tap_ok(res.outcome == LBR_OUT_OK && it.outcome == LBR_OUT_BLOCKED, "4110: item BLOCKED");
	tap_ok(strstr(it.message, "backend-aaaa0002") != NULL,
	       "blocked message names the backend (%s)", it.message);

	remove_with(&m, "{\"RetCode\":153,\"Message\":\"limit\"}", &it, &res);
	tap_is_int(res.outcome, LBR_OUT_THROTTLED, "remove: 153 throttled");
	tap_is_int(it.outcome, LBR_OUT_THROTTLED, "item mirrors the call");
	tap_is_str(it.message, "limit", "item message is the cloud's");
	check_no_secret("remove", &res);

	/* Any other RetCode >= 2000 is the SDKs' "retryable" (SPEC 4.3). */
	remove_with(&m, "{\"RetCode\":4092,\"Message\":\"delete failed\"}", &it, &res);
	tap_ok(res.outcome == LBR_OUT_TRANSIENT && it.outcome == LBR_OUT_TRANSIENT,
	       "4092: transient, call and item");
	tap_is_str(it.message, "delete failed", "item keeps the cloud's text");

	m.id = "backend/../x";
	remove_with(&m, NULL, &it, &res);
	tap_ok(res.outcome == LBR_OUT_INVALID && it.outcome == LBR_OUT_INVALID &&
		       mock_n_requests() == 0,
	       "malformed backend id never sent");

	/* The instance says batch 1; a larger batch is refused whole. */
	mock_reset();
	memset(its, 0, sizeof(its));
	P->remove_members(prov, mock_call(), &target, two, 2, its, &res);
	tap_ok(res.outcome == LBR_OUT_INVALID && its[0].outcome == LBR_OUT_INVALID &&
		       its[1].outcome == LBR_OUT_INVALID && mock_n_requests() == 0,
	       "batch of 2 refused without a request, both items failed");
}

static void test_update_rule(void)
{
	static const char *const want[] = {
		"Action",
		"UpdatePolicy",
		"ULBId",
		ULB,
		"VServerId",
		VS,
		"PolicyId",
		"policy-0a074d02",
		"Type",
		"Path",
		"Match",
		MATCH,
		"DomainMatchMode",
		"Regular",
		"PolicyPriority",
		"10",
		"BackendId.0",
		"backend-aaaa0003",
		"BackendId.1",
		"backend-aaaa0009",
		NULL,
	};
	static const struct lbr_kv attrs[] = {
		{ "Type", "Path" },
		{ "Match", MATCH },
		{ "DomainMatchMode", "Regular" },
		{ "PolicyPriority", "10" },
	};
	static const struct lbr_kv no_type[] = { { "Match", "x.com" } };
	const char *ids[] = { "backend-aaaa0003", "backend-aaaa0009" };
	struct lbr_rule_ref rule = { "policy-0a074d02", attrs, 4 };
	struct lbr_call_result res;
	const struct mock_request *rq;

	mock_reset();
	mock_push_response(200, "{\"Action\":\"UpdatePolicyResponse\",\"RetCode\":0}", NULL);
	tap_is_int(P->update_rule(prov, mock_call(), &target, &rule, ids, 2, &res), 0,
		   "update_rule returns 0");
	tap_is_int(res.outcome, LBR_OUT_OK, "UpdatePolicy OK");
	check_form("UpdatePolicy", 0, want);
	rq = mock_request_at(0);
	tap_ok(rq && strstr(rq->body, "&Match=%2Fapi%2F%E7%94%A8%E6%88%B7%2Fv1%3Fa%3D1"
				      "%26b%3D2%20c%2Bd%25&"),
	       "Match on the wire: UTF-8 %%XX, space %%20, + %%2B");

	mock_reset();
	P->update_rule(prov, mock_call(), &target, &rule, ids, 0, &res);
	tap_ok(res.outcome == LBR_OUT_INVALID && mock_n_requests() == 0 &&
		       !strcmp(res.message, "refusing to empty policy policy-0a074d02"),
	       "empty member list refused locally (%s)", res.message);

	mock_reset();
	rule.attrs = no_type;
	rule.n_attrs = 1;
	P->update_rule(prov, mock_call(), &target, &rule, ids, 1, &res);
	tap_ok(res.outcome == LBR_OUT_INVALID && mock_n_requests() == 0,
	       "rule without observed Type is not updated");

	mock_reset();
	rule.attrs = attrs;
	rule.n_attrs = 4;
	mock_push_response(200, "{\"RetCode\":2005,\"Message\":\"later\"}", NULL);
	P->update_rule(prov, mock_call(), &target, &rule, ids, 1, &res);
	tap_is_int(res.outcome, LBR_OUT_TRANSIENT, "UpdatePolicy >= 2000");
	check_no_secret("update_rule", &res);
}

static void drain_with(const struct lbr_member_ref *m, int drain, const char *body,
		       struct lbr_item_result *it, struct lbr_call_result *res)
{
	mock_reset();
	if (body)
		mock_push_response(200, body, NULL);
	memset(it, 0x5a, sizeof(*it));
	memset(res, 0x5a, sizeof(*res));
	tap_is_int(P->drain_members(prov, mock_call(), &target, m, 1, drain, it, res), 0,
		   "drain_members returns 0");
}

static void test_drain(void)
{
	static const char *const w_drain[] = {
		"Action",    "UpdateBackendAttribute", "ULBId",   ULB,
		"BackendId", "backend-aaaa0001",       "Enabled", "0",
		NULL,
	};
	static const char *const w_restore[] = {
		"Action",    "UpdateBackendAttribute",
		"ULBId",     ULB,
		"BackendId", "backend-aaaa0001",
		"Enabled",   "1",
		"Weight",    "10",
		NULL,
	};
	static const char *const w_restore_off[] = {
		"Action",    "UpdateBackendAttribute", "ULBId",   ULB,
		"BackendId", "backend-aaaa0001",       "Enabled", "0",
		NULL,
	};
	struct lbr_member_ref m = { "backend-aaaa0001", "10.0.1.5", 8080, 10, 1 };
	struct lbr_item_result it;
	struct lbr_call_result res;

	drain_with(&m, 1, "{\"RetCode\":0}", &it, &res);
	tap_ok(res.outcome == LBR_OUT_OK && it.outcome == LBR_OUT_OK, "drain OK");
	check_form("drain Enabled=0", 0, w_drain);

	drain_with(&m, 0, "{\"RetCode\":0}", &it, &res);
	tap_ok(res.outcome == LBR_OUT_OK && it.outcome == LBR_OUT_OK, "restore OK");
	check_form("restore Enabled/Weight", 0, w_restore);

	/* Observed disabled with an unknown weight: restored as it was. */
	m.enabled = 0;
	m.weight = -1;
	drain_with(&m, 0, "{\"RetCode\":0}", &it, &res);
	check_form("restore keeps Enabled=0, no Weight", 0, w_restore_off);
	m.enabled = 1;
	m.weight = 10;

	drain_with(&m, 1, "{\"RetCode\":4093}", &it, &res);
	tap_ok(res.outcome == LBR_OUT_OK && it.outcome == LBR_OUT_NOT_FOUND,
	       "drain of a gone backend: item NOT_FOUND");
	tap_is_str(res.code, "RetCode.4093", "drain code");

	mock_reset();
	mock_push_transport_error(LBR_ETRANSPORT, "timed out");
	memset(&it, 0, sizeof(it));
	P->drain_members(prov, mock_call(), &target, &m, 1, 1, &it, &res);
	tap_ok(res.outcome == LBR_OUT_TRANSIENT && it.outcome == LBR_OUT_TRANSIENT &&
		       res.http_status == 0,
	       "drain: transport failure is transient, item too");
}

static void weight_with(const struct lbr_member_ref *m, int w, const char *body,
			struct lbr_item_result *it, struct lbr_call_result *res)
{
	mock_reset();
	if (body)
		mock_push_response(200, body, NULL);
	memset(it, 0x5a, sizeof(*it));
	memset(res, 0x5a, sizeof(*res));
	tap_is_int(P->set_weights(prov, mock_call(), &target, m, &w, 1, it, res), 0,
		   "set_weights returns 0");
}

static void test_set_weights(void)
{
	static const char *const want[] = {
		"Action",    "UpdateBackendAttribute", "ULBId",  ULB,
		"BackendId", "backend-aaaa0002",       "Weight", "5",
		NULL,
	};
	static const char *const want100[] = {
		"Action",    "UpdateBackendAttribute", "ULBId",  ULB,
		"BackendId", "backend-aaaa0002",       "Weight", "100",
		NULL,
	};
	struct lbr_member_ref m = { "backend-aaaa0002", "10.0.1.6", 8080, 1, 0 };
	struct lbr_item_result it;
	struct lbr_call_result res;

	weight_with(&m, 5,
		    "{\"Action\":\"UpdateBackendAttributeResponse\","
		    "\"RetCode\":0}",
		    &it, &res);
	tap_ok(res.outcome == LBR_OUT_OK && it.outcome == LBR_OUT_OK, "weight 1 -> 5 OK");
	check_form("UpdateBackendAttribute Weight", 0, want);

	weight_with(&m, 100, "{\"RetCode\":0}", &it, &res);
	check_form("UpdateBackendAttribute Weight=100", 0, want100);

	weight_with(&m, 0, NULL, &it, &res);
	tap_ok(res.outcome == LBR_OUT_INVALID && it.outcome == LBR_OUT_INVALID &&
		       mock_n_requests() == 0 && strstr(res.message, "1..100"),
	       "weight 0 refused without a request (%s)", res.message);
	weight_with(&m, 101, NULL, &it, &res);
	tap_ok(it.outcome == LBR_OUT_INVALID && mock_n_requests() == 0,
	       "weight 101 refused without a request");

	weight_with(&m, 7, "{\"RetCode\":4148,\"Message\":\"no node\"}", &it, &res);
	tap_ok(res.outcome == LBR_OUT_OK && it.outcome == LBR_OUT_NOT_FOUND,
	       "weight of a gone backend: item NOT_FOUND");

	weight_with(&m, 7,
		    "{\"RetCode\":171,\"Message\":\"Signature VerifyAC "
		    "Error\"}",
		    &it, &res);
	tap_ok(res.outcome == LBR_OUT_AUTH && it.outcome == LBR_OUT_AUTH, "weight: 171 is AUTH");
	tap_is_str(res.code, "RetCode.171", "code RetCode.171");
}

/* ---- creation --------------------------------------------------------- */

static const struct lbr_kv ip_kv[] = {
	{ "ulb_id", ULB },
	{ "vserver_id", VS },
	{ "vpc_id", "uvnet-abc123" },
	{ "subnet_id", "subnet-def456" },
};

static void create_with(const struct lbr_target *t, const struct lbr_member_spec *m,
			const char *body, struct lbr_item_result *it, struct lbr_call_result *res)
{
	mock_reset();
	if (body)
		mock_push_response(200, body, NULL);
	memset(it, 0x5a, sizeof(*it));
	memset(res, 0x5a, sizeof(*res));
	tap_is_int(P->create_members(prov, mock_call(), t, m, 1, it, res), 0,
		   "create_members returns 0");
}

static void test_create(void)
{
	static const char *const w_uhost[] = {
		"Action",       "AllocateBackend",
		"ULBId",        ULB,
		"VServerId",    VS,
		"ResourceType", "UHost",
		"ResourceId",   "uhost-k2f0pzvd",
		"Port",         "8080",
		"Weight",       "10",
		NULL,
	};
	static const char *const w_upm[] = {
		"Action",       "AllocateBackend",
		"ULBId",        ULB,
		"VServerId",    VS,
		"ResourceType", "UPM",
		"ResourceId",   "upm-0a1b2c",
		"Port",         "80",
		NULL,
	};
	static const char *const w_ip[] = {
		"Action",       "AllocateBackend",
		"ULBId",        ULB,
		"VServerId",    VS,
		"ResourceType", "IP",
		"ResourceIP",   "10.0.1.13",
		"VPCId",        "uvnet-abc123",
		"SubnetId",     "subnet-def456",
		"Port",         "9090",
		"Weight",       "1",
		NULL,
	};
	static const char *const w_ip6[] = {
		"Action",       "AllocateBackend",
		"ULBId",        ULB,
		"VServerId",    VS,
		"ResourceType", "IP",
		"ResourceIP",   "2001:db8::5",
		"VPCId",        "uvnet-abc123",
		"SubnetId",     "subnet-def456",
		"Port",         "80",
		NULL,
	};
	const struct lbr_target tip = {
		.pool_name = "api",
		.kv = ip_kv,
		.n = 4,
		.create = 1,
	};
	struct lbr_member_spec uh = { "10.0.1.5", 8080, 10, NULL, "uhost-k2f0pzvd" };
	struct lbr_member_spec upm = { "10.0.1.7", 80, -1, "db", "upm-0a1b2c" };
	struct lbr_member_spec ip = { "10.0.1.13", 9090, 1, NULL, NULL };
	struct lbr_member_spec ip6 = { "2001:db8::5", 80, -1, NULL, NULL };
	struct lbr_member_spec bad = { "10.0.1.5", 80, -1, NULL, "vm-1" };
	struct lbr_item_result it;
	struct lbr_call_result res;

	create_with(&target, &uh,
		    "{\"Action\":\"AllocateBackendResponse\","
		    "\"BackendId\":\"backend-new00001\",\"RetCode\":0}",
		    &it, &res);
	tap_ok(res.outcome == LBR_OUT_OK && it.outcome == LBR_OUT_OK, "AllocateBackend UHost OK");
	tap_is_str(it.id, "backend-new00001", "new BackendId returned");
	check_form("AllocateBackend UHost", 0, w_uhost);
	check_no_secret("create", &res);

	/* The pool's vpc/subnet are for IP backends only; no Weight when
	 * none is declared (the cloud's default applies); name= has no
	 * AllocateBackend parameter. */
	create_with(&tip, &upm, "{\"RetCode\":0,\"BackendId\":\"backend-x2\"}", &it, &res);
	check_form("AllocateBackend UPM", 0, w_upm);

	create_with(&tip, &ip, "{\"RetCode\":0,\"BackendId\":\"backend-x3\"}", &it, &res);
	tap_ok(it.outcome == LBR_OUT_OK, "AllocateBackend IP OK");
	check_form("AllocateBackend IP", 0, w_ip);

	create_with(&tip, &ip6, "{\"RetCode\":0,\"BackendId\":\"backend-x4\"}", &it, &res);
	check_form("AllocateBackend IPv6 IP", 0, w_ip6);

	/* Answered without a usable id: created, the re-read finds it. */
	create_with(&target, &uh, "{\"RetCode\":0,\"BackendId\":\"bad id\"}", &it, &res);
	tap_ok(res.outcome == LBR_OUT_OK && it.outcome == LBR_OUT_OK && it.id[0] == '\0',
	       "malformed BackendId: OK, no id");

	create_with(&target, &uh,
		    "{\"RetCode\":4109,\"Message\":\"host "
		    "already in pool\"}",
		    &it, &res);
	tap_ok(res.outcome == LBR_OUT_OK && it.outcome == LBR_OUT_EXISTS, "4109: item EXISTS");
	tap_is_str(res.code, "RetCode.4109", "code RetCode.4109");
	tap_is_str(it.message, "member 10.0.1.5:8080 is already in vserver " VS, "exists message");
	tap_is_str(it.id, "", "no id for an existing member");

	create_with(&target, &uh,
		    "{\"RetCode\":4118,\"Message\":\"port must "
		    "equal\"}",
		    &it, &res);
	tap_ok(res.outcome == LBR_OUT_INVALID && it.outcome == LBR_OUT_INVALID &&
		       strstr(it.message, "port must equal"),
	       "4118: invalid, with the cloud's message (%s)", it.message);

	create_with(&target, &uh, "{\"RetCode\":63032,\"Message\":\"vpc\"}", &it, &res);
	tap_ok(it.outcome == LBR_OUT_INVALID, "63032 (other VPC): invalid");
	tap_is_str(res.code, "RetCode.63032", "code RetCode.63032");
	create_with(&target, &uh, "{\"RetCode\":4120}", &it, &res);
	tap_ok(it.outcome == LBR_OUT_INVALID, "4120 (bad backend): invalid");
	create_with(&target, &uh, "{\"RetCode\":4207}", &it, &res);
	tap_ok(it.outcome == LBR_OUT_INVALID, "4207 (quota): invalid");
	create_with(&target, &uh, "{\"RetCode\":4143}", &it, &res);
	tap_ok(it.outcome == LBR_OUT_INVALID, "4143 (no vserver): invalid");
	create_with(&target, &uh, "{\"RetCode\":4090,\"Message\":\"x\"}", &it, &res);
	tap_ok(it.outcome == LBR_OUT_TRANSIENT,
	       "4090 (create failed): transient like any other >= 2000");

	create_with(&target, &uh, "{\"RetCode\":150}", &it, &res);
	tap_ok(res.outcome == LBR_OUT_TRANSIENT && it.outcome == LBR_OUT_TRANSIENT,
	       "150: transient");

	/* What check_target refuses is never sent either. */
	create_with(&target, &ip, NULL, &it, &res);
	tap_ok(res.outcome == LBR_OUT_INVALID && it.outcome == LBR_OUT_INVALID &&
		       mock_n_requests() == 0,
	       "IP backend without vpc_id/subnet_id not sent (%s)", res.message);
	create_with(&target, &bad, NULL, &it, &res);
	tap_ok(it.outcome == LBR_OUT_INVALID && mock_n_requests() == 0,
	       "unknown resource prefix not sent");
	uh.weight = 0;
	create_with(&target, &uh, NULL, &it, &res);
	tap_ok(it.outcome == LBR_OUT_INVALID && mock_n_requests() == 0, "weight 0 not sent");
	uh.weight = 10;
}

static void test_check_create(void)
{
	static const struct lbr_kv only_vpc[] = {
		{ "ulb_id", ULB },
		{ "vserver_id", VS },
		{ "vpc_id", "uvnet-a" },
	};
	static const struct lbr_kv bad_subnet[] = {
		{ "ulb_id", ULB },
		{ "vserver_id", VS },
		{ "vpc_id", "uvnet-a" },
		{ "subnet_id", "subnet a" },
	};
	struct lbr_member_spec ms[] = {
		{ "10.0.1.5", 8080, 10, NULL, "uhost-k2f0pzvd" },
		{ "10.0.1.13", 9090, -1, NULL, NULL },
	};
	struct lbr_member_spec bad_res = { "10.0.1.5", 80, -1, NULL, "vm-123" };
	struct lbr_member_spec bare = { "10.0.1.5", 80, -1, NULL, "uhost-" };
	struct lbr_member_spec heavy = { "10.0.1.5", 80, 101, NULL, "uhost-k2f0pzvd" };
	struct lbr_member_spec v6 = { "2001:db8::5", 80, -1, NULL, NULL };
	struct lbr_target t = {
		.pool_name = "api",
		.kv = target_kv,
		.n = 2,
		.create = 1,
		.members = ms,
		.n_members = 2,
	};
	char err[256] = "";

	tap_ok(P->check_target(prov, &t, err, sizeof(err)) < 0 &&
		       !strcmp(err, "ucloud: pool api: member 10.0.1.13:9090: create = "
				    "yes needs resource= on the member, or vpc_id and "
				    "subnet_id on the pool"),
	       "create without resource= or vpc/subnet (%s)", err);
	t.create = 0;
	tap_is_int(P->check_target(prov, &t, err, sizeof(err)), 0,
		   "same members without create = yes");
	t.create = 1;
	t.kv = ip_kv;
	t.n = 4;
	tap_is_int(P->check_target(prov, &t, err, sizeof(err)), 0,
		   "create with vpc_id + subnet_id (%s)", err);
	t.n_members = 1;
	t.kv = target_kv;
	t.n = 2;
	tap_is_int(P->check_target(prov, &t, err, sizeof(err)), 0, "create with resource= only");

	t.kv = only_vpc;
	t.n = 3;
	tap_ok(P->check_target(prov, &t, err, sizeof(err)) < 0 &&
		       strstr(err, "vpc_id and subnet_id must be given together"),
	       "vpc_id without subnet_id (%s)", err);
	t.kv = bad_subnet;
	t.n = 4;
	tap_ok(P->check_target(prov, &t, err, sizeof(err)) < 0 &&
		       strstr(err, "subnet_id must match"),
	       "malformed subnet_id (%s)", err);

	t.kv = ip_kv;
	t.n = 4;
	t.members = &bad_res;
	tap_ok(P->check_target(prov, &t, err, sizeof(err)) < 0 &&
		       strstr(err, "pool api: member 10.0.1.5:80: resource 'vm-123'"),
	       "unknown resource prefix (%s)", err);
	t.create = 0;
	tap_ok(P->check_target(prov, &t, err, sizeof(err)) < 0,
	       "unknown resource prefix refused without create too");
	t.create = 1;
	t.members = &bare;
	tap_ok(P->check_target(prov, &t, err, sizeof(err)) < 0, "bare prefix 'uhost-' refused (%s)",
	       err);
	t.members = &heavy;
	tap_ok(P->check_target(prov, &t, err, sizeof(err)) < 0 &&
		       strstr(err, "weight 101 out of range 1..100"),
	       "weight 101 (%s)", err);
	t.members = &v6;
	t.kv = target_kv;
	t.n = 2;
	tap_ok(P->check_target(prov, &t, err, sizeof(err)) < 0 &&
		       strstr(err, "member [2001:db8::5]:80"),
	       "IPv6 member named with brackets (%s)", err);
}

static void test_instance_info(void)
{
	size_t i;
	int all1 = 1;

	tap_ok(info.caps == (LBR_CAP_RULES | LBR_CAP_DRAIN | LBR_CAP_CREATE | LBR_CAP_WEIGHT |
			     LBR_CAP_COOPERATIVE),
	       "instance caps");
	for (i = 0; i < LBR_BATCH_COUNT; i++)
		all1 &= info.batch[i] == 1;
	tap_ok(all1, "every batch limit is 1");
	tap_is_int(info.weight_min, 1, "weight_min");
	tap_is_int(info.weight_max, 100, "weight_max");
	tap_is_str(info.api, "ulb", "api flavour");
}

/*
 * Whatever the answer, no operation leaves the call or its item unset:
 * LBR_OUT_UNSET is read as failure by the core, but a plugin that relies
 * on that has forgotten a case.
 */
static void test_never_unset(void)
{
	static const char *const bodies[] = {
		"{\"RetCode\":0}",
		"{\"RetCode\":0,\"BackendId\":\"backend-1\"}",
		"{\"RetCode\":4093}",
		"{\"RetCode\":4148}",
		"{\"RetCode\":4109}",
		"{\"RetCode\":4110}",
		"{\"RetCode\":153}",
		"{\"RetCode\":171}",
		"{\"RetCode\":2000}",
		"{\"RetCode\":-1}",
		"{}",
		"not json",
		"",
		"{\"RetCode\":0,\"BackendId\":5}",
	};
	static const long statuses[] = { 200, 429, 500, 403 };
	struct lbr_member_ref ref = { "backend-aaaa0001", "10.0.1.5", 8080, 5, 1 };
	struct lbr_member_spec spec = { "10.0.1.5", 8080, 5, NULL, "uhost-k2f0pzvd" };
	struct lbr_item_result it;
	struct lbr_call_result res;
	size_t b, s, op, bad = 0, cases = 0;
	int w = 3;

	for (op = 0; op < 5; op++) {
		for (s = 0; s < 5; s++) {
			for (b = 0; b < sizeof(bodies) / sizeof(bodies[0]); b++) {
				mock_reset();
				if (s < 4)
					mock_push_response(statuses[s], bodies[b], NULL);
				else
					mock_push_transport_error(b % 2 ? LBR_EFATAL
									: LBR_ETRANSPORT,
								  "x");
				memset(&it, 0, sizeof(it));
				memset(&res, 0, sizeof(res));
				switch (op) {
				case 0:
					P->remove_members(prov, mock_call(), &target, &ref, 1, &it,
							  &res);
					break;
				case 1:
					P->create_members(prov, mock_call(), &target, &spec, 1, &it,
							  &res);
					break;
				case 2:
					P->set_weights(prov, mock_call(), &target, &ref, &w, 1, &it,
						       &res);
					break;
				default:
					P->drain_members(prov, mock_call(), &target, &ref, 1,
							 op == 3, &it, &res);
					break;
				}
				cases++;
				if (res.outcome == LBR_OUT_UNSET || it.outcome == LBR_OUT_UNSET ||
				    res.outcome >= LBR_OUTCOME_COUNT ||
				    it.outcome >= LBR_OUTCOME_COUNT ||
				    (res.outcome != LBR_OUT_OK && it.outcome != res.outcome) ||
				    (s > 0 && it.outcome == LBR_OUT_OK)) {
					printf("# op %zu status %zu body %zu: "
					       "call %d item %d\n",
					       op, s, b, res.outcome, it.outcome);
					bad++;
				}
			}
		}
	}
	tap_ok(bad == 0 && cases == 5 * 5 * 14,
	       "%zu answers x 5 operations: never unset, item follows a failed "
	       "call, no success without HTTP 200",
	       cases);
}

static void test_list_resources(void)
{
	struct lbr_call_result res;
	char next[32];
	const struct mock_member *m;
	char *b = fixture_edit("\"ResourceId\": \"uhost-k2f0pzvd\",",
			       "\"ResourceId\": \"uhost-k2f0pzvd\", "
			       "\"ResourceName\": \"web-1\",");

	tap_is_int(list_with(200, b, "", &res, next, sizeof(next)), LBR_OUT_OK,
		   "list with ResourceName");
	m = mock_member_at(0);
	tap_ok(m && m->name && !strcmp(m->name, "web-1") && m->instance_id &&
		       !strcmp(m->instance_id, "uhost-k2f0pzvd") && m->type &&
		       !strcmp(m->type, "instance"),
	       "ResourceName -> name, ResourceId -> instance_id, UHost -> "
	       "instance");
	m = mock_member_at(1);
	tap_ok(m && !m->name && m->instance_id && !strcmp(m->instance_id, "uhost-3nq8x1ab"),
	       "no ResourceName: no name");
	m = mock_member_at(2);
	tap_ok(m && !m->name && !m->instance_id && m->type && !strcmp(m->type, "ip"),
	       "IP backend: type ip, no instance_id");
	free(b);

	b = fixture_edit("\"ResourceId\": \"uhost-3nq8x1ab\",", "\"ResourceId\": \"10.0.1.6/32\",");
	tap_is_int(list_with(200, b, "", &res, next, sizeof(next)), LBR_OUT_OK,
		   "odd ResourceId does not fail the page");
	m = mock_member_at(1);
	tap_ok(m && !m->instance_id, "odd ResourceId dropped");
	free(b);
}

/* The request URL is the endpoint normalised the way libcurl sends it
 * (lower-case scheme, no default port), any path kept, one slash last. */
static void test_endpoint_forms(void)
{
	static const struct {
		const char *endpoint, *url;
	} cases[] = {
		{ "HTTPS://gw.example.test:443/ulb//", "https://gw.example.test/ulb/" },
		{ "http://127.0.0.1:8080", "http://127.0.0.1:8080/" },
		{ "http://[::1]:80/", "http://[::1]/" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		void *pv = NULL;
		char err[256] = "", next[32];
		struct lbr_call_result res;

		tap_is_int(open_with(cases[i].endpoint, &pv, err, sizeof(err)), 0,
			   "open with endpoint %s (%s)", cases[i].endpoint, err);
		if (!pv)
			continue;
		mock_reset();
		mock_push_response(200,
				   "{\"RetCode\":0,\"TotalCount\":0,"
				   "\"DataSet\":[]}",
				   NULL);
		P->list_page(pv, mock_call(), &target, "", mock_obs(), next, sizeof(next), &res);
		tap_is_str(mock_n_requests() ? mock_request_at(0)->url : "", cases[i].url,
			   "endpoint %s posts to %s", cases[i].endpoint, cases[i].url);
		P->close(pv);
	}
}

static void test_surfercloud(void)
{
	void *sc = NULL;
	char err[256] = "", next[32];
	struct lbr_call_result res;

	tap_is_int(open_with("https://api.surfercloud.com/", &sc, err, sizeof(err)), 0,
		   "open with SurferCloud endpoint");
	mock_reset();
	mock_push_response(200, "{\"RetCode\":0,\"TotalCount\":0,\"DataSet\":[]}", NULL);
	P->list_page(sc, mock_call(), &target, "", mock_obs(), next, sizeof(next), &res);
	tap_is_str(mock_request_at(0)->url, "https://api.surfercloud.com/",
		   "request goes to SurferCloud, single slash");
	P->close(sc);
	P->close(NULL);
	test_endpoint_forms();
}

/* A key short enough to occur inside the mask must not loop forever, and
 * the cloud's text around it is kept. */
static void test_scrub_short_key(void)
{
	static const struct lbr_kv cfg[] = {
		{ "region", "cn-bj2" },
		{ "project_id", "org-abc123" },
		{ "public_key", "e" },
		{ "private_key", "Zq9" },
	};
	void *pv = NULL;
	char err[256] = "", next[32];
	struct lbr_call_result res;

	tap_is_int(P->open(mock_host(), cfg, 4, &pv, &info, err, sizeof(err)), 0,
		   "open with a one-letter public key");
	mock_reset();
	mock_push_response(200, "{\"RetCode\":171,\"Message\":\"bad Zq9 e\"}", NULL);
	P->list_page(pv, mock_call(), &target, "", mock_obs(), next, sizeof(next), &res);
	tap_is_str(res.message,
		   "cr[redacted]d[redacted]ntials r[redacted]j[redacted]ct"
		   "[redacted]d: bad [redacted] [redacted]",
		   "every occurrence masked once, scrubbing terminates");
	P->close(pv);
}

/* A cloud Message with control characters cannot forge log lines. */
static void test_message_cleaned(void)
{
	char next[32];
	struct lbr_call_result res;

	mock_reset();
	mock_push_response(200,
			   "{\"RetCode\":230,\"Message\":\"line one\\n"
			   "lbreconcile: forged\\u001b[31m\"}",
			   NULL);
	P->list_page(prov, mock_call(), &target, "", mock_obs(), next, sizeof(next), &res);
	tap_is_int(res.outcome, LBR_OUT_INVALID, "RetCode 230: invalid");
	tap_is_str(res.message, "line one lbreconcile: forged [31m",
		   "control characters in the cloud's Message become spaces");
}

int main(void)
{
	char err[256] = "";

	test_entry();
	test_open_errors();
	tap_is_int(open_with(NULL, &prov, err, sizeof(err)), 0, "open with defaults (%s)", err);
	test_instance_info();
	test_check_target();
	test_list();
	test_list_variants();
	test_list_resources();
	test_classification();
	test_remove();
	test_update_rule();
	test_drain();
	test_set_weights();
	test_create();
	test_never_unset();
	test_surfercloud();
	test_scrub_short_key();
	test_message_cleaned();
	P->close(prov);
	mock_reset();
	return tap_done();
}

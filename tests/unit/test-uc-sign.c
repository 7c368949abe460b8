/*
 * UCloud signature: every published vector (O1-O12) and the computed
 * ones (C1-C10) from reference/ucloud-ulb.md, plus the form encoding.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lbreconcile/provider.h"
#include "tests/unit/mockhost.h"
#include "tests/unit/tap.h"
#include "ucsign.h"

#define PUB "ucloudsomeone@example.com1296235120854146120"
#define PRIV "46f09bb9fab4f12dfc160dae12273d5332b5debe"

struct pair {
	const char *k, *v;
};

/* Sign `n` pairs added in the given order (or reversed), compare. */
static void check_vec(const char *name, const struct pair *kv, size_t n, const char *priv,
		      const char *want, int reverse)
{
	struct lbr_uc_params p;
	char hex[41];
	size_t i;
	int r = 0;

	lbr_uc_params_init(&p);
	for (i = 0; i < n && r == 0; i++) {
		const struct pair *e = &kv[reverse ? n - 1 - i : i];

		r = lbr_uc_params_add(&p, e->k, e->v);
	}
	if (r == 0)
		r = lbr_uc_sign(&p, priv, hex);
	if (r != 0)
		tap_ok(0, "%s: signing failed (%d)", name, r);
	else
		tap_is_str(hex, want, "%s%s", name, reverse ? " (reversed)" : "");
	lbr_uc_params_release(&p);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct pair o1[] = {
	{ "Action", "DescribeUHostInstance" },
	{ "Region", "cn-bj2" },
	{ "Limit", "10" },
	{ "PublicKey", PUB },
};
static const struct pair o2[] = {
	{ "Action", "CreateUHostInstance" },
	{ "CPU", "2" },
	{ "ChargeType", "Month" },
	{ "DiskSpace", "10" },
	{ "ImageId", "f43736e1-65a5-4bea-ad2e-8a46e18883c2" },
	{ "LoginMode", "Password" },
	{ "Memory", "2048" },
	{ "Name", "Host01" },
	{ "Password", "VUNsb3VkLmNu" },
	{ "Quantity", "1" },
	{ "Region", "cn-bj2" },
	{ "Zone", "cn-bj2-04" },
	{ "PublicKey", PUB },
};
static const struct pair o3[] = {
	{ "Action", "AllocateBackendBatch" },
	{ "PublicKey", PUB },
	{ "Backends.0", "foo" },
	{ "Backends.1", "bar" },
	{ "Backends.2", "42" },
	{ "Backends.3", "foo" },
	{ "Backends.4", "bar" },
	{ "Backends.5", "42" },
	{ "Backends.6", "foo" },
	{ "Backends.7", "bar" },
	{ "Backends.8", "42" },
	{ "Backends.9", "foo" },
	{ "Backends.10", "bar" },
	{ "Backends.11", "42" },
};
static const struct pair o4[] = {
	{ "Action", "CreateUHostInstance" },
	{ "CPU", "2" },
	{ "ChargeType", "Month" },
	{ "DiskSpace", "10" },
	{ "ImageId", "f43736e1-65a5-4bea-ad2e-8a46e18883c2" },
	{ "LoginMode", "Password" },
	{ "Memory", "2048" },
	{ "Name", "Host01" },
	{ "Password", "VUNsb3VkLmNu" },
	{ "Quantity", "1" },
	{ "Region", "cn-bj2" },
	{ "Zone", "cn-bj2-04" },
	{ "PublicKey", PUB },
	{ "SecurityToken", "some_stoken" },
};
/* O5/O6: the signer takes strings; a float is sent pre-formatted, 35.0
 * as "35" (the plugin never sends floats at all). */
static const struct pair o5[] = {
	{ "Action", "DescribeUHostInstance" },
	{ "Region", "cn-bj2" },
	{ "Proportion", "35" },
	{ "PublicKey", PUB },
};
static const struct pair o6[] = {
	{ "Action", "DescribeUHostInstance" },
	{ "Region", "cn-bj2" },
	{ "Proportion", "65.722" },
	{ "PublicKey", PUB },
};
static const struct pair o7[] = { { "foo", "bar" } };
static const struct pair o8[] = {
	{ "foo", "bar" },
	{ "PublicKey", "my_public_key" },
};
static const struct pair o9[] = {
	{ "PublicKey", "foo" },  { "SecurityToken", "42" }, { "Action", "foo" },
	{ "Name", "foo" },       { "ProjectId", "bar" },    { "Region", "cn-bj2" },
	{ "Zone", "cn-bj2-02" },
};
static const struct pair o10[] = {
	{ "PublicKey", "foo" },
	{ "SecurityToken", "42" },
	{ "Name", "foo" },
};
static const struct pair o11[] = {
	{ "PublicKey", "foo" },
	{ "SecurityToken", "42" },
};
static const struct pair o12[] = {
	{ "PublicKey", "CJf+LfjjXPk70z/fsBlK9sHC+kBTTj7gr2g/C/R7YSi3EFTKCmh7Bp5W1UH64D/O" },
	{ "Action", "GetUIoTCoreDeviceShadow" },
	{ "DeviceSN", "ark1d4ug1evfb1jy" },
	{ "ProductSN", "8pi2i730vxsala2a" },
	{ "ProjectId", "org-z44lmf12e" },
	{ "Region", "cn-sh2" },
};
#define O12_PRIV "ztqlj0vtg6Por5d/etqpadpTZwscLRh5cIsFAHbwuvnMY4mAWI+GT5C2yzj/KiZf"

static const struct pair c1[] = {
	{ "Action", "ReleaseBackend" },  { "Region", "cn-bj2" },
	{ "ProjectId", "project-XXXX" }, { "ULBId", "ulb-XXXX" },
	{ "BackendId", "backend-XXXX" }, { "PublicKey", PUB },
};
static const struct pair c2[] = {
	{ "Action", "DescribeVServer" },
	{ "Region", "cn-bj2" },
	{ "ProjectId", "org-abc123" },
	{ "ULBId", "ulb-4xq1pxnh" },
	{ "VServerId", "vserver-2tggsm1b" },
	{ "Offset", "0" },
	{ "Limit", "100" },
	{ "PublicKey", PUB },
};
static const struct pair c3[] = {
	{ "Action", "DescribeVServer" },
	{ "Region", "cn-bj2" },
	{ "ProjectId", "org-abc123" },
	{ "ULBId", "ulb-4xq1pxnh" },
	{ "Offset", "20" },
	{ "Limit", "20" },
	{ "PublicKey", PUB },
};
static const struct pair c4[] = {
	{ "Action", "AllocateBackend" },
	{ "Region", "cn-bj2" },
	{ "ProjectId", "org-abc123" },
	{ "ULBId", "ulb-4xq1pxnh" },
	{ "VServerId", "vserver-2tggsm1b" },
	{ "ResourceType", "UHost" },
	{ "ResourceId", "uhost-k2f0pzvd" },
	{ "Port", "8080" },
	{ "Weight", "10" },
	{ "Enabled", "1" },
	{ "PublicKey", PUB },
};
static const struct pair c5[] = {
	{ "Action", "UpdateBackendAttribute" },
	{ "Region", "cn-bj2" },
	{ "ProjectId", "org-abc123" },
	{ "ULBId", "ulb-4xq1pxnh" },
	{ "BackendId", "backend-5mdo2b3e" },
	{ "Enabled", "0" },
	{ "Weight", "1" },
	{ "PublicKey", PUB },
};
static const struct pair c6[] = {
	{ "Action", "UpdatePolicy" },
	{ "Region", "cn-bj2" },
	{ "ProjectId", "org-abc123" },
	{ "ULBId", "ulb-4xq1pxnh" },
	{ "VServerId", "vserver-2tggsm1b" },
	{ "PolicyId", "policy-0a074d02" },
	{ "Type", "Domain" },
	{ "Match", "www.[123].demo.com" },
	{ "BackendId.0", "backend-aaaa0001" },
	{ "BackendId.1", "backend-aaaa0002" },
	{ "PublicKey", PUB },
};
#define C7_MATCH "/api/\xe7\x94\xa8\xe6\x88\xb7/v1?a=1&b=2 c+d%"
static const struct pair c7[] = {
	{ "Action", "CreatePolicy" },
	{ "Region", "cn-bj2" },
	{ "ProjectId", "org-abc123" },
	{ "ULBId", "ulb-4xq1pxnh" },
	{ "VServerId", "vserver-2tggsm1b" },
	{ "Type", "Path" },
	{ "Match", C7_MATCH },
	{ "BackendId.0", "backend-aaaa0001" },
	{ "PublicKey", PUB },
};
static const struct pair c8[] = {
	{ "Action", "UpdateBackendBatch" },
	{ "Region", "cn-bj2" },
	{ "ProjectId", "org-abc123" },
	{ "ULBId", "ulb-4xq1pxnh" },
	{ "Attributes.0.BackendId", "backend-aaaa0001" },
	{ "Attributes.0.Weight", "0" },
	{ "Attributes.0.Enabled", "0" },
	{ "Attributes.1.BackendId", "backend-aaaa0002" },
	{ "Attributes.1.Weight", "100" },
	{ "Attributes.1.Enabled", "1" },
	{ "PublicKey", PUB },
};
static const struct pair c9[] = {
	{ "Action", "DescribeLoadBalancers" },
	{ "Region", "cn-bj2" },
	{ "ProjectId", "org-abc123" },
	{ "Type", "Application" },
	{ "ShowDetail", "true" },
	{ "LoadBalancerIds.0", "alb-aaaa" },
	{ "LoadBalancerIds.1", "alb-bbbb" },
	{ "PublicKey", PUB },
};
static const struct pair c10[] = {
	{ "Action", "DescribeUHostInstance" },
	{ "Region", "cn-bj2" },
	{ "Limit", "10" },
	{ "PublicKey", "someone@example.com1296235120854146120" },
};

static void test_vectors(void)
{
	int rev;

	/* Insertion order must not matter: each vector is signed twice. */
	for (rev = 0; rev < 2; rev++) {
		check_vec("O1", o1, N(o1), PRIV, "cba5cf5ec4d4233d206b1b54951e3787350a642f", rev);
		check_vec("O2", o2, N(o2), PRIV, "4f9ef5df2abab2c6fccd1e9515cb7e2df8c6bb65", rev);
		check_vec("O3 Backends.10 sorts before Backends.2", o3, N(o3), PRIV,
			  "6bc32642779f8cb0bb3d3f128b1c0688abf9a1a3", rev);
		check_vec("O4 SecurityToken signed", o4, N(o4), PRIV,
			  "170c480ad176a247b324eb92a2cfe536aacfbd04", rev);
		check_vec("O5", o5, N(o5), PRIV, "da620b97de476947302291fc93a2d8b0710be328", rev);
		check_vec("O6", o6, N(o6), PRIV, "5e39dd48144d6a075328e56a6c5e9df6c39ae939", rev);
		check_vec("O7 no PublicKey", o7, N(o7), "my_private_key",
			  "634edc1bb957c0d65e5ab5494cf3b7784fbc87af", rev);
		check_vec("O8 PublicKey < foo", o8, N(o8), "my_private_key",
			  "d4411ab30953fb0bbcb1e7313081f05e4e91a394", rev);
		check_vec("O9", o9, N(o9), "bar", "170de002e3ca3acdc3a790badc4d14b09d183e4b", rev);
		check_vec("O10", o10, N(o10), "bar", "012679c87951918e8e04de783a4a8ff981a61d5f",
			  rev);
		check_vec("O11", o11, N(o11), "bar", "9d6d7cb14e8aeda887369ff22371788ae06c5ea4",
			  rev);
		check_vec("O12 '+' and '/' in keys", o12, N(o12), O12_PRIV,
			  "f1e6b4e35df41b42232e059f6020c7fd51b2889e", rev);
		check_vec("C1 ReleaseBackend", c1, N(c1), PRIV,
			  "a45ac7679fdf3b01b8d15697c08194c2d712433a", rev);
		check_vec("C2 DescribeVServer", c2, N(c2), PRIV,
			  "3de0fd531214ded225325d12e6b01805359c753d", rev);
		check_vec("C3 DescribeVServer p2", c3, N(c3), PRIV,
			  "a07471b8a0a963f36fe2c287e336b3fc128d5f14", rev);
		check_vec("C4 AllocateBackend", c4, N(c4), PRIV,
			  "db9c45bba81118f4a528200b75e53a36e4cd36c4", rev);
		check_vec("C5 UpdateBackendAttribute", c5, N(c5), PRIV,
			  "ac2f7e602bc4b109d112b35e15742f8c84e1af2e", rev);
		check_vec("C6 UpdatePolicy", c6, N(c6), PRIV,
			  "691cf8dbdd34f013515049bd4cf1556ba43d3779", rev);
		check_vec("C7 raw UTF-8, &, +, %, space", c7, N(c7), PRIV,
			  "c93f565c5a12f9451faea8b90a605c5204740673", rev);
		check_vec("C8 Attributes.N.Field", c8, N(c8), PRIV,
			  "9fc4f95abf6d1c838d77736beda1a002d3f6c91f", rev);
		check_vec("C9 bool + list", c9, N(c9), PRIV,
			  "4d5dc6dd999f1b4ce75b67ddabca938a064dca76", rev);
		check_vec("C10 SurferCloud doc key", c10, N(c10), PRIV,
			  "4201919d267504385deb93af19e0197870fed36b", rev);
	}
	/* C11 is the Go SDK's rule for JSON bodies with nested arrays.  The
	 * plugin only ever sends flattened form bodies, so the signer does
	 * not implement that rule and C11 is deliberately not tested. */
}

/* A one-character change anywhere must change the signature. */
static void test_sensitivity(void)
{
	struct lbr_uc_params p;
	char hex[41] = "";
	size_t i;

	lbr_uc_params_init(&p);
	for (i = 0; i < N(o1); i++)
		lbr_uc_params_add(&p, o1[i].k, strcmp(o1[i].k, "Limit") ? o1[i].v : "11");
	lbr_uc_sign(&p, PRIV, hex);
	tap_ok(strlen(hex) == 40 && strcmp(hex, "cba5cf5ec4d4233d206b1b54951e3787350a642f") != 0,
	       "O1 with Limit=11 signs differently");
	lbr_uc_params_release(&p);
}

static void test_params(void)
{
	struct lbr_uc_params p;

	lbr_uc_params_init(&p);
	tap_is_int(lbr_uc_params_add(&p, "Action", "X"), 0, "add Action");
	tap_is_int(lbr_uc_params_add(&p, "Action", "Y"), LBR_EINVAL, "duplicate key refused");
	tap_is_int(lbr_uc_params_add(&p, "Signature", "x"), LBR_EINVAL,
		   "Signature is never a signed parameter");
	tap_is_int(lbr_uc_params_add(&p, "", "x"), LBR_EINVAL, "empty key refused");
	tap_is_int(lbr_uc_params_add(&p, "Empty", ""), 0, "empty value ok");
	tap_is_int(lbr_uc_params_add(&p, "Null", NULL), 0, "NULL value ok");
	tap_is_int((long long)p.n, 1, "empty values are not sent");
	tap_ok(lbr_uc_params_get(&p, "Empty") == NULL, "empty value absent");
	tap_is_int(lbr_uc_params_add_long(&p, "Offset", 120), 0, "add long");
	tap_is_str(lbr_uc_params_get(&p, "Offset"), "120", "long as decimal");
	lbr_uc_params_release(&p);
	tap_is_int((long long)p.n, 0, "release empties the list");
}

/* The body a request carries: sorted pairs, encoded, Signature last. */
static void test_form_body(void)
{
	struct lbr_uc_params p;
	char hex[41], *body = NULL;
	size_t len = 0, i;
	int r = 0;

	lbr_uc_params_init(&p);
	for (i = 0; i < N(c7) && r == 0; i++)
		r = lbr_uc_params_add(&p, c7[i].k, c7[i].v);
	if (r == 0)
		r = lbr_uc_sign(&p, PRIV, hex);
	if (r == 0)
		r = lbr_uc_form_body(&p, hex, mock_host()->url_encode, &body, &len);
	tap_is_int(r, 0, "C7 body built");
	tap_is_str(body,
		   "Action=CreatePolicy&BackendId.0=backend-aaaa0001"
		   "&Match=%2Fapi%2F%E7%94%A8%E6%88%B7%2Fv1%3Fa%3D1%26b%3D2"
		   "%20c%2Bd%25"
		   "&ProjectId=org-abc123"
		   "&PublicKey=ucloudsomeone%40example.com1296235120854146120"
		   "&Region=cn-bj2&Type=Path&ULBId=ulb-4xq1pxnh"
		   "&VServerId=vserver-2tggsm1b"
		   "&Signature=c93f565c5a12f9451faea8b90a605c5204740673",
		   "C7 wire body (Match %%-encoded, space %%20, + %%2B)");
	tap_is_int((long long)len, body ? (long long)strlen(body) : -1, "C7 body length");
	free(body);
	body = NULL;

	r = lbr_uc_form_body(&p, NULL, mock_host()->url_encode, &body, &len);
	tap_ok(r == 0 && body && !strstr(body, "Signature"), "no Signature when none given");
	free(body);
	lbr_uc_params_release(&p);

	r = lbr_uc_form_body(&p, NULL, mock_host()->url_encode, &body, &len);
	tap_ok(r == 0 && body && !*body && len == 0, "empty list, empty body");
	free(body);
}

int main(void)
{
	test_vectors();
	test_sensitivity();
	test_params();
	test_form_body();
	return tap_done();
}

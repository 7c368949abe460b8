/*
 * Configuration: the keys of ABI 2 (core provider keys, member attributes,
 * create/max_create/prune/protect, lock_ttl/audit_spool/state_endpoint,
 * cred: secrets), what the plugin instance allows, and every refusal with
 * its FILE:LINE.  Uses the fixture plugins (capable, echo) and the mock
 * host; no network.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/cfg.h"
#include "agent/error.h"
#include "agent/log.h"
#include "tests/unit/mockhost.h"
#include "tests/unit/tap.h"

static char dir[64];
static const char *plugins;
static int n_files;

/* The capable provider, lines 1-5; pools start at line 6. */
#define PROV \
	"[provider c]\nplugin = capable\ncaps = create,weight,drain\nweight_min = 1\nweight_max = 100\n"

static const char *write_ini(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *write_ini(const char *fmt, ...)
{
	static char path[128];
	va_list ap;
	FILE *f;

	snprintf(path, sizeof(path), "%s/t%d.ini", dir, ++n_files);
	f = fopen(path, "w");
	if (!f)
		abort();
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
	return path;
}

static int load(const char *path, struct lbr_cfg **cfg, char *err, size_t len)
{
	err[0] = '\0';
	return lbr_cfg_load(path, plugins, mock_host(), cfg, err, len);
}

/* Expect the file to be refused at `line` with `needle` in the message. */
static void refused(const char *path, int line, const char *needle, const char *what)
{
	struct lbr_cfg *cfg = NULL;
	char err[1024], want[256];
	int r = load(path, &cfg, err, sizeof(err));

	snprintf(want, sizeof(want), "%s:%d: ", path, line);
	tap_ok(r < 0 && !cfg, "%s: refused", what);
	if (!tap_ok(!strncmp(err, want, strlen(want)) && strstr(err, needle) && !strchr(err, '\n'),
		    "%s: one line at :%d: saying '%s'", what, line, needle))
		printf("#   got: %s\n", err);
	lbr_cfg_free(cfg);
}

static struct lbr_cfg *accepted(const char *path, const char *what)
{
	struct lbr_cfg *cfg = NULL;
	char err[1024];
	int r = load(path, &cfg, err, sizeof(err));

	if (!tap_ok(r == 0 && cfg, "%s: accepted", what))
		printf("#   err: %s\n", err);
	return r == 0 ? cfg : NULL;
}

static void test_defaults_and_core_keys(void)
{
	struct lbr_cfg *cfg;
	struct lbr_kv *kv;
	const char *p;
	char ca[128];
	size_t i;
	int core = 0;
	FILE *f;

	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	f = fopen(ca, "w");
	fputs("not really a CA\n", f);
	fclose(f);
	p = write_ini(PROV "[pool web]\nprovider = c\npool_id = p1\nmember = 10.0.0.1:80\n");
	cfg = accepted(p, "a minimal config");
	if (cfg) {
		const struct lbr_cfg_pool *pool = &cfg->pools[0];

		tap_is_int(cfg->lock_ttl, 30, "lock_ttl defaults to 30 s");
		tap_ok(cfg->audit_spool == NULL, "audit_spool is NULL when absent");
		tap_ok(cfg->state[0] == '/' && !cfg->state_etcd,
		       "the local state is an absolute path");
		tap_is_int(cfg->providers[0].timeout_s, 10,
			   "the provider timeout defaults to 10 s");
		tap_is_int(pool->create, 0, "create defaults to no");
		tap_is_int(pool->max_create, -1, "max_create defaults to unlimited (-1)");
		tap_is_int(pool->prune, LBR_PRUNE_ALL, "prune defaults to all");
		tap_is_int(pool->n_protect, 0, "no protect lines");
		tap_is_int(pool->members[0].weight, -1, "a member without weight= has weight -1");
		tap_ok(!pool->members[0].name && !pool->members[0].resource,
		       "and no name or resource");
		tap_ok((cfg->providers[0].info.caps &
			(LBR_CAP_CREATE | LBR_CAP_WEIGHT | LBR_CAP_DRAIN)) ==
			       (LBR_CAP_CREATE | LBR_CAP_WEIGHT | LBR_CAP_DRAIN),
		       "the instance info is kept (caps %#llx)",
		       (unsigned long long)cfg->providers[0].info.caps);
		tap_ok(cfg->providers[0].info.weight_min == 1 &&
			       cfg->providers[0].info.weight_max == 100,
		       "with its weight range");
		tap_is_str(cfg->providers[0].info.api, "t1", "and its api flavour");
		lbr_cfg_free(cfg);
	}

	/* The core keys are the core's: the fixture refuses any key it does
	 * not know, so none of them reached open(). */
	p = write_ini(PROV "timeout = 5\nca_file = ca.pem\nallow_insecure_http = yes\n"
			   "endpoint = http://192.0.2.1\n"
			   "[pool web]\nprovider = c\npool_id = p1\nmember = 10.0.0.1:80\n");
	lbr_log_level = -1; /* the plain-http warning */
	cfg = accepted(p, "core keys ca_file, allow_insecure_http, timeout");
	lbr_log_level = LBR_LOG_WARN;
	if (cfg) {
		const struct lbr_cfg_provider *pr = &cfg->providers[0];

		tap_is_int(pr->timeout_s, 5, "timeout = 5 is read");
		tap_is_int(pr->timeout_line, 6, "with its line");
		tap_is_str(pr->ca_file, ca, "ca_file is resolved against the config's directory");
		tap_is_int(pr->allow_insecure_http, 1, "allow_insecure_http = yes is read");
		kv = lbr_cfg_provider_kv(pr);
		for (i = 0; kv && kv[i].key; i++)
			core |= !strcmp(kv[i].key, "plugin") || !strcmp(kv[i].key, "timeout") ||
				!strcmp(kv[i].key, "ca_file") ||
				!strcmp(kv[i].key, "allow_insecure_http");
		tap_ok(kv && !core && i == 4, "the plugin's kv holds its 4 keys and no core key");
		free(kv);
		lbr_cfg_free(cfg);
	}
	refused(write_ini(PROV "timeout = 5\ntimeout = 6\n[pool web]\nprovider = c\npool_id = p1\n"
			       "member = 10.0.0.1:80\n"),
		7, "provider \"c\": duplicate key 'timeout'", "a core key twice");
	refused(write_ini(
			PROV
			"timeout = 0\n[pool web]\nprovider = c\npool_id = p1\nmember = 10.0.0.1:80\n"),
		6, "timeout must be a number of seconds from 1 to 600, not '0'", "timeout 0");
	refused(write_ini(PROV "ca_file = nope.pem\n[pool web]\nprovider = c\npool_id = p1\n"
			       "member = 10.0.0.1:80\n"),
		6, "ca_file", "an unreadable ca_file");
	refused(write_ini(
			PROV
			"colour = red\n[pool web]\nprovider = c\npool_id = p1\nmember = 10.0.0.1:80\n"),
		6, "unknown key 'colour' for plugin capable", "an unknown plugin key");
}

static void test_members(void)
{
	struct lbr_cfg *cfg;
	const char *p;

	p = write_ini(PROV "[pool web]\nprovider = c\npool_id = p1\n"
			   "member = 10.0.0.2:80 weight=5 name=canary resource=uhost-1\n"
			   "member = [2001:db8::5]:80\tweight=100\n"
			   "member = 10.0.0.1:80 name=a.b-c_d\n");
	cfg = accepted(p, "member attributes");
	if (cfg) {
		const struct lbr_cfg_pool *pool = &cfg->pools[0];
		const struct lbr_cfg_member *m = pool->members;

		tap_is_int(pool->n_members, 3, "three members");
		/* sorted by address text */
		tap_ok(!strcmp(m[0].address, "10.0.0.1") && m[0].weight == -1 &&
			       !strcmp(m[0].name, "a.b-c_d") && !m[0].resource && m[0].line == 11,
		       "10.0.0.1:80 name=a.b-c_d (line 11)");
		tap_ok(!strcmp(m[1].address, "10.0.0.2") && m[1].weight == 5 &&
			       !strcmp(m[1].name, "canary") && !strcmp(m[1].resource, "uhost-1"),
		       "10.0.0.2:80 weight=5 name=canary resource=uhost-1");
		tap_ok(!strcmp(m[2].address, "2001:db8::5") && m[2].port == 80 &&
			       m[2].weight == 100,
		       "[2001:db8::5]:80 weight=100 (tab-separated)");
		tap_ok(pool->specs && pool->specs[1].address == m[1].address &&
			       pool->specs[1].weight == 5 &&
			       !strcmp(pool->specs[1].resource, "uhost-1") &&
			       pool->specs[0].resource == NULL,
		       "the lbr_member_spec view matches the members");
		lbr_cfg_free(cfg);
	}
	refused(write_ini(
			PROV
			"[pool web]\nprovider = c\npool_id = p1\nmember = 10.0.0.1:80 colour=red\n"),
		9,
		"member 10.0.0.1:80: unknown attribute 'colour' (expected weight=, name= or resource=)",
		"an unknown member attribute");
	refused(write_ini(
			PROV
			"[pool web]\nprovider = c\npool_id = p1\nmember = 10.0.0.1:80 weight=1 weight=2\n"),
		9, "duplicate attribute 'weight'", "a duplicate weight=");
	refused(write_ini(
			PROV
			"[pool web]\nprovider = c\npool_id = p1\nmember = 10.0.0.1:80 name=a name=b\n"),
		9, "duplicate attribute 'name'", "a duplicate name=");
	refused(write_ini(
			PROV
			"[pool web]\nprovider = c\npool_id = p1\nmember = 10.0.0.1:80 weight=x\n"),
		9, "weight must be a number, not 'x'", "a bad weight value");
	refused(write_ini(
			PROV
			"[pool web]\nprovider = c\npool_id = p1\nmember = 10.0.0.1:80 weight=-1\n"),
		9, "weight must be a number, not '-1'", "a negative weight");
	refused(write_ini(
			PROV
			"[pool web]\nprovider = c\npool_id = p1\nmember = 10.0.0.1:80 resource=a/b\n"),
		9, "resource 'a/b' is not a valid id", "a bad resource id");
	refused(write_ini(PROV
			  "[pool web]\nprovider = c\npool_id = p1\nmember = 10.0.0.1:80 name=\n"),
		9, "bad name ''", "an empty name");
	refused(write_ini(PROV
			  "[pool web]\nprovider = c\npool_id = p1\nmember = 10.0.0.1:80 canary\n"),
		9, "'canary' is not KEY=VALUE", "an attribute without '='");
	refused(write_ini(PROV "[pool web]\nprovider = c\npool_id = p1\nmember = 10.0.0.1:80\n"
			       "member = 10.0.0.1:80 weight=3\n"),
		10, "member 10.0.0.1:80 is listed twice (also line 9)",
		"a member twice, attributes aside");
	/* The instance's range and capabilities. */
	refused(write_ini(PROV "[pool web]\nprovider = c\npool_id = p1\nmember = 10.0.0.1:80\n"
			       "member = 10.0.0.2:80 weight=0\n"),
		10, "weight=0 is out of range for provider \"c\" (plugin capable, api t1) (1-100)",
		"a weight below the instance's range");
	refused(write_ini(
			PROV
			"[pool web]\nprovider = c\npool_id = p1\nmember = 10.0.0.1:80 weight=101\n"),
		9, "(1-100)", "a weight above the instance's range");
	refused(write_ini(
			"[provider c]\nplugin = capable\ncaps = create\n\n\n"
			"[pool web]\nprovider = c\npool_id = p1\nmember = 10.0.0.1:80 weight=5\n"),
		9, "weight=5, but provider \"c\" (plugin capable, api t1) cannot set weights",
		"a weight where the instance cannot set weights");
}

static void test_pool_keys(void)
{
	struct lbr_cfg *cfg;
	const char *p;
	char d[64], err[1024];

	p = write_ini(PROV
		      "[pool web]\nprovider = c\npool_id = p1\ncreate = yes\nsubnet_id = s1\n"
		      "max_create = 7\nprune = owned\nprotect = 10.8.0.0/16\nprotect = name:as-*\n"
		      "member = 10.0.0.1:80\n");
	cfg = accepted(p, "create, max_create, prune, protect");
	if (cfg) {
		const struct lbr_cfg_pool *pool = &cfg->pools[0];

		tap_is_int(pool->create, 1, "create = yes");
		tap_is_int(pool->max_create, 7, "max_create = 7");
		tap_is_int(pool->prune, LBR_PRUNE_OWNED, "prune = owned");
		tap_is_int(pool->n_protect, 2, "two protect selectors");
		if (pool->n_protect == 2) {
			lbr_selector_describe(&pool->protect[0], d, sizeof(d));
			tap_is_str(d, "10.8.0.0/16", "the first, in order");
			tap_is_int(pool->protect[1].line, 14, "the second knows its line");
			tap_ok(lbr_selector_match(&pool->protect[1], "10.0.0.5", 80, "as-1", NULL,
						  NULL),
			       "and matches");
		}
		tap_is_int(pool->n_target, 2,
			   "the plugin's target keys are pool_id and subnet_id only");
		lbr_cfg_free(cfg);
	}
	p = write_ini(
		PROV
		"[pool web]\nprovider = c\npool_id = p1\nmax_create = unlimited\nprune = none\n"
		"allow_empty = yes\n");
	cfg = accepted(p, "max_create = unlimited, prune = none, no members");
	if (cfg) {
		tap_ok(cfg->pools[0].max_create == -1 && cfg->pools[0].prune == LBR_PRUNE_NONE,
		       "read as -1 and LBR_PRUNE_NONE");
		lbr_cfg_free(cfg);
	}
	/* check_target sees create and the declared members. */
	p = write_ini(
		PROV
		"[pool web]\nprovider = c\npool_id = p1\ncreate = yes\nsubnet_id = s1\nshow = yes\n"
		"member = 10.0.0.2:80 weight=5 name=x\nmember = 10.0.0.1:81 resource=r-1\n");
	tap_ok(load(p, &cfg, err, sizeof(err)) < 0 &&
		       strstr(err,
			      ":6: pool \"web\": pool=web n=3 create=1 members=10.0.0.1:81/w-1/n=-/r=r-1,10.0.0.2:80/w5/n=x/r=-"),
	       "check_target gets create = 1 and every declared member with its attributes");
	printf("#   %s\n", err);
	refused(write_ini(
			PROV
			"[pool web]\nprovider = c\npool_id = p1\ncreate = yes\nmember = 10.0.0.1:80\n"),
		6, "pool \"web\": create = yes needs subnet_id",
		"create = yes without what the plugin needs");
	refused(write_ini(
			"[provider c]\nplugin = capable\ncaps = weight\n\n\n"
			"[pool web]\nprovider = c\npool_id = p1\ncreate = yes\nsubnet_id = s\nmember = 10.0.0.1:80\n"),
		6,
		"create = yes, but provider \"c\" (plugin capable, api t1) cannot create members",
		"create = yes where the instance cannot create");
	refused(write_ini(
			"[provider c]\nplugin = capable\ncaps = rules\n\n\n"
			"[pool web]\nprovider = c\npool_id = p1\ndrain = 30\nmember = 10.0.0.1:80\n"),
		6, "drain is not supported by provider \"c\"",
		"drain where the instance cannot drain");
	refused(write_ini(PROV "[pool web]\nprovider = c\npool_id = p1\ncreate = maybe\n"), 9,
		"create must be yes or no, not 'maybe'", "a bad create value");
	refused(write_ini(PROV
			  "[pool web]\nprovider = c\npool_id = p1\ncreate = no\ncreate = yes\n"),
		10, "duplicate key 'create'", "create twice");
	refused(write_ini(PROV "[pool web]\nprovider = c\npool_id = p1\nmax_create = -1\n"), 9,
		"max_create must be a number from 0 to 1000000 or 'unlimited', not '-1'",
		"a bad max_create");
	refused(write_ini(PROV "[pool web]\nprovider = c\npool_id = p1\nprune = some\n"), 9,
		"prune must be all, owned or none, not 'some'", "a bad prune");
	refused(write_ini(PROV
			  "[pool web]\nprovider = c\npool_id = p1\nprune = all\nprune = none\n"),
		10, "duplicate key 'prune'", "prune twice");
	refused(write_ini(PROV "[pool web]\nprovider = c\npool_id = p1\nprotect = 10.0.0.0/8\n"
			       "protect = 10.8.0.1/16\n"),
		10,
		"pool \"web\": protect: bad selector '10.8.0.1/16' (address bits are set after the prefix; did you mean 10.8.0.0/16?)",
		"a bad protect selector");
	refused(write_ini(PROV "[pool web]\nprovider = c\npool_id = p1\nprotect = type:vm\n"), 9,
		"bad selector 'type:vm'", "a bad type: selector");
}

static void test_agent_and_state(void)
{
	struct lbr_cfg *cfg;
	char want[128];
	const char *p;

#define POOL "[pool web]\nprovider = c\npool_id = p1\nmember = 10.0.0.1:80\n"
	p = write_ini("[agent]\nlock_ttl = 45\naudit_spool = spool/audit\n" PROV POOL);
	cfg = accepted(p, "lock_ttl and audit_spool");
	if (cfg) {
		snprintf(want, sizeof(want), "%s/spool/audit", dir);
		tap_is_int(cfg->lock_ttl, 45, "lock_ttl = 45");
		tap_is_str(cfg->audit_spool, want,
			   "audit_spool is resolved against the config's directory");
		lbr_cfg_free(cfg);
	}
	refused(write_ini("[agent]\nlock_ttl = 4\n" PROV POOL), 2,
		"lock_ttl must be a number of seconds from 5 to 86400, not '4'", "lock_ttl 4");
	refused(write_ini("[agent]\nlock_ttl = 30\nlock_ttl = 40\n" PROV POOL), 3,
		"duplicate key 'lock_ttl'", "lock_ttl twice");
	refused(write_ini("[agent]\ncolour =\n" PROV POOL), 2, "[agent]: unknown key 'colour'",
		"an unknown [agent] key, even empty");
	refused(write_ini("[agent]\nstate_endpoint =\n" PROV POOL), 2,
		"[agent]: 'state_endpoint' has an empty value", "an empty state_endpoint");

	/* Fencing margin: timeout * 2 + 2 < lock_ttl, etcd only. */
	refused(write_ini("[agent]\nstate = etcd://127.0.0.1:2379/lbr\n" PROV
			  "timeout = 14\n" POOL),
		8,
		"provider \"c\": timeout 14 s is too long for lock_ttl 30 s (the etcd lock needs timeout * 2 + 2 < lock_ttl: raise lock_ttl to 31 or lower timeout to 13)",
		"etcd: timeout 14 with lock_ttl 30");
	refused(write_ini("[agent]\nstate = etcd://127.0.0.1:2379/lbr\nlock_ttl = 10\n" PROV POOL),
		3, "timeout 10 s is too long for lock_ttl 10 s",
		"etcd: the default timeout with lock_ttl 10 (at the lock_ttl line)");
	cfg = accepted(write_ini("[agent]\nstate = etcd://127.0.0.1:2379/lbr\n" PROV
				 "timeout = 13\n" POOL),
		       "etcd: timeout 13 with lock_ttl 30 (28 < 30)");
	lbr_cfg_free(cfg);
	cfg = accepted(write_ini("[agent]\nlock_ttl = 5\n" PROV "timeout = 60\n" POOL),
		       "a local state: no lease, no margin to check");
	lbr_cfg_free(cfg);

	/* etcd locations, checked as the backend will use them. */
	refused(write_ini("[agent]\nstate = etcd://\n" PROV POOL), 2,
		"state 'etcd://': missing /PREFIX", "etcd:// alone");
	refused(write_ini("[agent]\nstate = etcd://127.0.0.1:0/p\n" PROV POOL), 2,
		"endpoint '127.0.0.1:0': the port must be a number from 1 to 65535", "port 0");
	refused(write_ini("[agent]\nstate = etcd://127.0.0.1:99999/p\n" PROV POOL), 2,
		"endpoint '127.0.0.1:99999': the port must be", "port 99999");
	refused(write_ini("[agent]\nstate = etcd://h:1,/p\n" PROV POOL), 2,
		"state 'etcd://h:1,/p': empty endpoint (a stray ',')", "an empty endpoint");
	refused(write_ini("[agent]\nstate = etcd://h:1\n" PROV POOL), 2, "missing /PREFIX",
		"no prefix");
	refused(write_ini("[agent]\nstate = etcd://h:1/\n" PROV POOL), 2, "missing /PREFIX",
		"an empty prefix");
	refused(write_ini("[agent]\nstate = etcd://h:1/a b\n" PROV POOL), 2, "bad prefix",
		"a bad prefix");
	refused(write_ini("[agent]\nstate = etcd://h/p\n" PROV POOL), 2,
		"endpoint 'h' is not HOST:PORT", "an endpoint without a port");
	refused(write_ini("[agent]\nstate = etcd:///p\n" PROV POOL), 2,
		"state 'etcd:///p': no etcd endpoint", "etcd:///p without state_endpoint");
	refused(write_ini("[agent]\nstate = consul://h:1/p\n" PROV POOL), 2,
		"unsupported state location 'consul://h:1/p'", "another scheme");
	refused(write_ini(
			"[agent]\nstate = etcd:///p\nstate_endpoint = a:1\nstate_endpoint = b:0\n" PROV
				POOL),
		4, "state_endpoint: endpoint 'b:0': the port must be",
		"a bad state_endpoint, at its own line");
	refused(write_ini("[agent]\nstate = s.json\nstate_endpoint = a:1\n" PROV POOL), 3,
		"state_endpoint is for an etcd state", "state_endpoint with a local state");
	cfg = accepted(
		write_ini(
			"[agent]\nstate = etcd:///lbr/prod\nstate_endpoint = etcd-1.example:2379\n"
			"state_endpoint = [2001:db8::7]:2379\n" PROV POOL),
		"etcd:///PREFIX with two state_endpoint lines");
	if (cfg) {
		tap_is_str(cfg->state, "etcd://etcd-1.example:2379,[2001:db8::7]:2379/lbr/prod",
			   "folded into one canonical location");
		tap_is_int(cfg->state_etcd, 1, "state_etcd is set");
		lbr_cfg_free(cfg);
	}
	cfg = accepted(write_ini("[agent]\nstate = etcd://a:1/p\nstate_endpoint = b:2\n" PROV POOL),
		       "endpoints in the URL and in state_endpoint lines");
	if (cfg) {
		tap_is_str(cfg->state, "etcd://a:1,b:2/p", "the URL's come first");
		lbr_cfg_free(cfg);
	}
}

static void test_secrets(void)
{
	struct lbr_cfg *cfg;
	char cred[96], path[160], err[1024];
	const char *p;
	FILE *f;

	snprintf(cred, sizeof(cred), "%s/creds", dir);
	mkdir(cred, 0700);
	snprintf(path, sizeof(path), "%s/hw.sk", cred);
	f = fopen(path, "w");
	fputs("s3cr3t-from-cred\nsecond line\n", f);
	fclose(f);
	p = write_ini(PROV "token = cred:hw.sk\n" POOL);
	unsetenv("CREDENTIALS_DIRECTORY");
	refused(p, 6, "token: credential hw.sk: CREDENTIALS_DIRECTORY is not set",
		"cred: without CREDENTIALS_DIRECTORY");
	setenv("CREDENTIALS_DIRECTORY", cred, 1);
	cfg = accepted(p, "cred:NAME");
	if (cfg) {
		tap_is_str(cfg->providers[0].kv[3].value, "s3cr3t-from-cred",
			   "cred: reads the first line of $CREDENTIALS_DIRECTORY/NAME");
		tap_is_int(cfg->providers[0].kv[3].secret, 1, "marked secret");
		lbr_cfg_free(cfg);
	}
	snprintf(path, sizeof(path), "%s/creds: credential nope not found in %s", "", cred);
	refused(write_ini(PROV "token = cred:nope\n" POOL), 6, path + strlen("/creds: "),
		"a missing credential names it and the directory");
	refused(write_ini(PROV "token = cred:../hw.sk\n" POOL), 6,
		"'cred:' needs a credential name (no '/')", "a credential name with a '/'");
	unsetenv("CREDENTIALS_DIRECTORY");

	/* A plugin that echoes its secret into an error: scrubbed. */
	setenv("LBR_TEST_ECHO_SECRET", "echo-secret-value", 1);
	p = write_ini(
		"[provider e]\nplugin = echo\nsecret_key = env:LBR_TEST_ECHO_SECRET\n"
		"[pool web]\nprovider = e\npool_id = p1\nfail_check = yes\nmember = 10.0.0.1:80\n");
	tap_ok(load(p, &cfg, err, sizeof(err)) < 0 &&
		       strstr(err, ":4: pool \"web\": echo: target refused (secret_key is ***)"),
	       "a plugin's error is scrubbed of the provider's secrets");
	tap_ok(!strstr(err, "echo-secret-value"), "the secret is not in the message");
	printf("#   %s\n", err);
}

static void test_find(void)
{
	char out[256], err[512], cwd[512];
	int r;

	unsetenv("LBRECONCILE_CONFIG");
	r = lbr_cfg_find("/x/given.ini", out, sizeof(out), err, sizeof(err));
	tap_ok(r == 0 && !strcmp(out, "/x/given.ini"), "-c FILE wins, even if missing");
	setenv("LBRECONCILE_CONFIG", "/x/env.ini", 1);
	r = lbr_cfg_find(NULL, out, sizeof(out), err, sizeof(err));
	tap_ok(r == 0 && !strcmp(out, "/x/env.ini"), "then $LBRECONCILE_CONFIG");
	r = lbr_cfg_find("/x/given.ini", out, sizeof(out), err, sizeof(err));
	tap_ok(r == 0 && !strcmp(out, "/x/given.ini"), "-c FILE beats $LBRECONCILE_CONFIG");
	setenv("LBRECONCILE_CONFIG", "", 1);
	if (!getcwd(cwd, sizeof(cwd)) || chdir(dir) < 0)
		abort();
	fclose(fopen("lbreconcile.ini", "w"));
	r = lbr_cfg_find(NULL, out, sizeof(out), err, sizeof(err));
	tap_ok(r == 0 && !strcmp(out, "lbreconcile.ini"),
	       "then ./lbreconcile.ini (an empty variable is unset)");
	unlink("lbreconcile.ini");
	r = lbr_cfg_find(NULL, out, sizeof(out), err, sizeof(err));
	if (access("/etc/lbreconcile/lbreconcile.ini", F_OK) == 0) {
		printf("ok %d # SKIP /etc/lbreconcile/lbreconcile.ini exists here\n", ++tap_n);
	} else {
		tap_ok(r == LBR_ENOENT && strstr(err, "-c FILE") &&
			       strstr(err, "LBRECONCILE_CONFIG") &&
			       strstr(err, "./lbreconcile.ini") &&
			       strstr(err, "/lbreconcile/lbreconcile.ini"),
		       "none found: the error names all four sources: %s", err);
	}
	if (chdir(cwd) < 0)
		abort();
	unsetenv("LBRECONCILE_CONFIG");
}

int main(void)
{
	char cmd[128];

	plugins = getenv("LBR_TEST_FIXTURE_DIR");
	if (!plugins) {
		printf("1..0 # SKIP LBR_TEST_FIXTURE_DIR not set\n");
		return 0;
	}
	snprintf(dir, sizeof(dir), "/tmp/lbr-cfg.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	mock_reset();
	test_defaults_and_core_keys();
	test_members();
	test_pool_keys();
	test_agent_and_state();
	test_secrets();
	test_find();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}

/*
 * Unit tests of the local state backend: document round trip, crash-safe
 * saving, refusal of corrupt/foreign files, the flock-based lock (across
 * processes) and the audit log.
 */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "state/state-int.h"
#include "state/state.h"
#include "tests/unit/tap.h"

static char dir[256];
static char path[300];

static char *sfx(const char *suffix)
{
	static char buf[4][400];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s%s", path, suffix);
	return buf[i];
}

static char *slurp(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	buf[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

static void spit(const char *p, const char *buf, size_t len)
{
	FILE *f = fopen(p, "wb");

	if (!f || fwrite(buf, 1, len, f) != len)
		abort();
	fclose(f);
}

static int mode_of(const char *p)
{
	struct stat sb;

	return stat(p, &sb) == 0 ? (int)(sb.st_mode & 07777) : -1;
}

static struct lbr_state_store *open_store(void)
{
	struct lbr_state_store *st = NULL;
	char err[512];

	if (lbr_state_store_open("s.json", dir, &st, err, sizeof(err)) < 0) {
		printf("# open: %s\n", err);
		abort();
	}
	return st;
}

static void make_pool(struct lbr_state_pool *p, const char *name)
{
	static struct lbr_state_target t[] = { { "pool_id", "5a9a3e9e" } };
	static struct lbr_state_member m[] = {
		{ "m3", "10.0.0.12", 80, NULL, -1 },
		{ "m1", "10.0.0.9", 80, "web-1", 10 },
		{ "m2", "10.0.0.9", 8080, "", 0 },
		{ "m4", "2001:db8::5", 80, NULL, 100 },
	};

	memset(p, 0, sizeof(*p));
	p->name = (char *)name;
	p->provider = "hw";
	p->targets = t;
	p->n_targets = 1;
	p->members = m;
	p->n_members = 4;
	p->observed_at = 1700000000;
	p->last_result = "converged";
	p->last_apply_at = 1700000100;
	p->last_removed = 2;
	p->last_errors = 1;
}

/* The state is written by a hand-rolled writer in json-c's pretty layout:
 * byte for byte what json-c prints for the same document, including
 * strings that need escaping, an empty pool and several pools. */
static void test_writer_matches_jsonc(void)
{
	static struct lbr_state_target t[] = {
		{ "pool_id", "a\"b\\c/d\x01\x1f\t\n\r\b\f\xc3\xa9\x7f" }, { "vserver_id", "" }
	};
	static struct lbr_state_member m[] = {
		{ "id \"quoted\"", "10.0.0.1", 65535, "n\"\\\x01", 0 },
		{ "\x02", "::1", 1, NULL, -1 },
	};
	static char *owned[] = { "[2001:db8::5]:80", "10.0.0.9:80", NULL };
	static char every[256];
	static struct lbr_state_counter counters[] = { { "removed_total", 7 },
						       { "apply_total", 0 } };
	struct lbr_state_pool pools[3];
	struct lbr_state doc;
	json_object *tree;
	const char *again;
	char *mine;

	/* Every byte value but NUL, as a value and as an owned key. */
	for (int b = 1; b < 256; b++)
		every[b - 1] = (char)b;
	owned[2] = every;
	m[1].name = every;
	memset(&doc, 0, sizeof(doc));
	make_pool(&pools[0], "web \"1\"");
	pools[0].targets = t;
	pools[0].n_targets = 2;
	pools[0].members = m;
	pools[0].n_members = 2;
	make_pool(&pools[1], "api");
	memset(&pools[2], 0, sizeof(pools[2]));
	pools[2].name = "empty";
	pools[2].provider = "uc";
	pools[1].owned = owned;
	pools[1].n_owned = 3;
	pools[1].has_owned = 1;
	pools[2].has_owned = 1;
	doc.pools = pools;
	doc.n_pools = 3;
	doc.counters = counters;
	doc.n_counters = 2;
	doc.serial = 18446744073709ull;
	doc.agent_version = "0.1.0";
	doc.updated_at = 1700000200;
	strcpy(doc.lineage, "0b8c2d6e-1111-4222-8333-444455556666");
	mine = lbr_state_to_json(&doc, NULL);
	tree = mine ? json_tokener_parse(mine) : NULL;
	tap_ok(tree != NULL, "the written state is valid JSON");
	again = tree ? json_object_to_json_string_ext(tree, JSON_C_TO_STRING_PRETTY |
								    JSON_C_TO_STRING_SPACED |
								    JSON_C_TO_STRING_NOSLASHESCAPE)
		     : NULL;
	tap_ok(mine && again && strlen(mine) == strlen(again) + 1 &&
		       !strncmp(mine, again, strlen(again)) && mine[strlen(again)] == '\n',
	       "byte for byte json-c's pretty printing of the same document (plus a newline)");
	if (mine && again && strncmp(mine, again, strlen(again)))
		printf("# mine:\n%s# json-c:\n%s\n", mine, again);
	json_object_put(tree);
	free(mine);
	mine = lbr_state_to_json(&doc, "empty");
	tap_ok(mine && strstr(mine, "\"members\": [\n      ]"),
	       "an empty pool has an empty members array");
	free(mine);
}

/* The local backend streams the document to its file through a 256 KiB
 * window: the bytes must be exactly lbr_state_to_json's, across window
 * edges and for a value larger than the window. */
static void test_streamed_write(void)
{
	enum { N = 6000 };
	static struct lbr_state_member m[N];
	static char ids[N][40], addrs[N][24], names[N][48];
	struct lbr_state_pool pool;
	struct lbr_state doc;
	char spath[] = "/tmp/lbr-test-stream.XXXXXX", *mine, *big, *read_back = NULL;
	size_t i, len = 0;
	int fd, r;

	big = malloc(300 * 1024 + 1);
	memset(big, 'x', 300 * 1024);
	big[300 * 1024] = '\0';
	big[1000] = '"'; /* an escape inside the long run */
	for (i = 0; i < N; i++) {
		snprintf(ids[i], sizeof(ids[i]), "member-%06zu", i);
		snprintf(addrs[i], sizeof(addrs[i]), "10.%zu.%zu.%zu", i >> 16, (i >> 8) & 255,
			 i & 255);
		snprintf(names[i], sizeof(names[i]), "name \"%zu\"\t", i);
		m[i] = (struct lbr_state_member){ ids[i], addrs[i], 80 + (unsigned)(i % 100),
						  names[i], (int)(i % 101) };
	}
	m[N / 2].name = big;
	memset(&doc, 0, sizeof(doc));
	make_pool(&pool, "big");
	pool.members = m;
	pool.n_members = N;
	doc.pools = &pool;
	doc.n_pools = 1;
	doc.serial = 3;
	doc.agent_version = "0.1.0";
	doc.updated_at = 1700000300;
	strcpy(doc.lineage, "0b8c2d6e-1111-4222-8333-444455556667");
	mine = lbr_state_to_json(&doc, NULL);
	fd = mkstemp(spath);
	r = fd >= 0 ? lbr_state_write_json_fd(&doc, fd) : -1;
	if (fd >= 0)
		close(fd);
	tap_is_int(r, 0, "streamed write succeeds");
	tap_is_int(lbr_state_read_file(spath, 64u << 20, &read_back, &len), 0, "read it back");
	tap_ok(mine && strlen(mine) > 3 * 256 * 1024,
	       "the document spans several windows (%zu bytes)", mine ? strlen(mine) : 0);
	tap_ok(mine && read_back && len == strlen(mine) && !memcmp(read_back, mine, len),
	       "streamed bytes == lbr_state_to_json's, byte for byte");
	/* A write that fails (a read-only descriptor) is an error. */
	fd = open("/dev/null", O_RDONLY);
	tap_is_int(lbr_state_write_json_fd(&doc, fd), -1, "a failing write is reported");
	tap_is_int(errno, EBADF, "with the write's errno");
	close(fd);
	unlink(spath);
	free(read_back);
	free(mine);
	free(big);
}

static void test_open(void)
{
	struct lbr_state_store *st = NULL;
	char err[512], want[400];
	int r;

	r = lbr_state_store_open("s.json", dir, &st, err, sizeof(err));
	tap_is_int(r, 0, "open a relative path");
	snprintf(want, sizeof(want), "%s/s.json", dir);
	tap_is_str(lbr_state_store_location(st), want, "relative path resolved against base_dir");
	lbr_state_store_free(st);

	r = lbr_state_store_open("nodir/s.json", dir, &st, err, sizeof(err));
	tap_ok(r == LBR_EINVAL && st == NULL && strstr(err, "does not exist"),
	       "missing directory refused: %s", err);
	r = lbr_state_store_open("etcd://127.0.0.1:2379,[::1]:2380/lbr", NULL, &st, err,
				 sizeof(err));
	tap_ok(r == 0 && st &&
		       !strcmp(lbr_state_store_location(st),
			       "etcd://127.0.0.1:2379,[::1]:2380/lbr"),
	       "valid etcd spec opens without I/O");
	lbr_state_store_free(st);
	st = NULL;
	r = lbr_state_store_open("etcd://127.0.0.1:99999/lbr", NULL, &st, err, sizeof(err));
	tap_ok(r == LBR_EINVAL && strstr(err, "invalid etcd endpoint"), "bad etcd port refused: %s",
	       err);
	r = lbr_state_store_open("etcd://127.0.0.1:2379", NULL, &st, err, sizeof(err));
	tap_ok(r == LBR_EINVAL && strstr(err, "invalid etcd location"),
	       "etcd without prefix refused: %s", err);
}

static void test_roundtrip(void)
{
	struct lbr_state_store *st = open_store();
	struct lbr_state *doc = NULL, *back = NULL;
	struct lbr_state_pool p, *q;
	char err[512], lineage[37];
	char *bak;
	mode_t old;
	int r;

	r = lbr_state_load(st, &doc, err, sizeof(err));
	tap_ok(r == 0 && doc && doc->lineage[0] == '\0' && doc->serial == 0,
	       "missing state loads as an empty document");
	r = lbr_state_save(st, doc, err, sizeof(err));
	tap_ok(r == LBR_EINVAL && strstr(err, "without holding"),
	       "save without the lock refused: %s", err);

	r = lbr_state_lock(st, "apply", 0, NULL, err, sizeof(err));
	tap_is_int(r, 0, "lock");
	make_pool(&p, "web");
	tap_is_int(lbr_state_pool_put(doc, &p), 0, "pool_put web");
	make_pool(&p, "api");
	p.provider = "sc";
	p.n_members = 1;
	p.last_result = NULL;
	tap_is_int(lbr_state_pool_put(doc, &p), 0, "pool_put api");
	p.n_members = 2;
	tap_is_int(lbr_state_pool_put(doc, &p), 0, "pool_put api again");
	tap_is_int(doc->n_pools, 2, "pool_put replaced, not appended");

	/* A restrictive umask must not change the mode we ask for. */
	old = umask(0277);
	r = lbr_state_save(st, doc, err, sizeof(err));
	umask(old);
	tap_is_int(r, 0, "first save");
	tap_is_int(doc->serial, 1, "serial 1 after the first save");
	tap_ok(strlen(doc->lineage) == 36 && doc->lineage[14] == '4', "lineage is a v4 UUID: %s",
	       doc->lineage);
	tap_ok(doc->agent_version && strcmp(doc->agent_version, PACKAGE_VERSION) == 0,
	       "agent_version set");
	tap_ok(time(NULL) - doc->updated_at < 60, "updated_at set");
	memcpy(lineage, doc->lineage, 37);
	tap_is_int(mode_of(path), 0600, "state file mode 0600 under umask 0277");
	tap_is_int(mode_of(sfx(".lock")), 0600, "lock file mode 0600");
	tap_ok(access(sfx(".backup"), F_OK) != 0, "no backup after the first save");

	r = lbr_state_load(st, &back, err, sizeof(err));
	tap_is_int(r, 0, "reload");
	tap_is_str(back->lineage, lineage, "lineage round trip");
	tap_is_int(back->serial, 1, "serial round trip");
	tap_is_int(back->n_pools, 2, "two pools");
	q = lbr_state_pool_find(back, "web");
	tap_ok(q != NULL, "pool web found");
	if (q) {
		tap_is_str(q->provider, "hw", "provider");
		tap_ok(q->n_targets == 1 && !strcmp(q->targets[0].key, "pool_id") &&
			       !strcmp(q->targets[0].value, "5a9a3e9e"),
		       "targets");
		tap_is_int(q->n_members, 4, "members");
		tap_ok(q->n_members == 4 && !strcmp(q->members[0].id, "m1") &&
			       !strcmp(q->members[1].id, "m2") && !strcmp(q->members[2].id, "m3") &&
			       !strcmp(q->members[3].id, "m4"),
		       "members sorted numerically by address then port");
		tap_ok(q->n_members == 4 && q->members[1].port == 8080 &&
			       !strcmp(q->members[3].address, "2001:db8::5"),
		       "member fields");
		tap_is_int(q->observed_at, 1700000000, "observed_at");
		tap_is_str(q->last_result, "converged", "last_apply result");
		tap_is_int(q->last_apply_at, 1700000100, "last_apply at");
		tap_ok(q->last_removed == 2 && q->last_errors == 1, "last_apply counters");
	}
	q = lbr_state_pool_find(back, "api");
	tap_ok(q && q->n_members == 2 && q->last_result == NULL,
	       "pool without last_apply round trips");
	tap_ok(lbr_state_pool_find(back, "nope") == NULL, "find unknown pool");

	/* Second save: serial continues, lineage kept, backup = version 1. */
	lbr_state_free(back);
	back = NULL;
	r = lbr_state_save(st, doc, err, sizeof(err));
	tap_ok(r == 0 && doc->serial == 2, "second save gives serial 2");
	tap_is_str(doc->lineage, lineage, "lineage kept");
	bak = slurp(sfx(".backup"), NULL);
	r = bak ? lbr_state_parse(bak, strlen(bak), &back, err, sizeof(err)) : -1;
	tap_ok(r == 0 && back->serial == 1 && !strcmp(back->lineage, lineage),
	       ".backup holds the previous version (serial 1)");
	tap_is_int(mode_of(sfx(".backup")), 0600, "backup mode 0600");
	free(bak);
	lbr_state_free(back);
	back = NULL;

	/* Saving a stale in-memory document never moves the serial back. */
	doc->serial = 0;
	r = lbr_state_save(st, doc, err, sizeof(err));
	tap_ok(r == 0 && doc->serial == 3, "serial continues from disk (3)");

	/* only_pool */
	{
		char *j = lbr_state_to_json(doc, "api");

		tap_ok(j && strstr(j, "\"api\"") && !strstr(j, "\"web\""),
		       "to_json only_pool prints only that pool");
		free(j);
		tap_ok(lbr_state_to_json(doc, "nope") == NULL,
		       "to_json of an unknown pool is NULL");
	}

	lbr_state_free(doc);
	lbr_state_store_free(st);
}

static void test_foreign(void)
{
	struct lbr_state_store *st = open_store();
	struct lbr_state *doc = NULL;
	char err[512], *before, *after;
	int r;

	lbr_state_lock(st, "apply", 0, NULL, err, sizeof(err));
	before = slurp(path, NULL);
	lbr_state_load(st, &doc, err, sizeof(err));
	memcpy(doc->lineage, "00000000-0000-4000-8000-000000000000", 37);
	r = lbr_state_save(st, doc, err, sizeof(err));
	tap_ok(r == LBR_EFOREIGN && strstr(err, "lineage"), "foreign lineage refused: %s", err);
	after = slurp(path, NULL);
	tap_ok(before && after && !strcmp(before, after), "foreign save left the file unchanged");
	free(after);

	/* An empty lineage adopts the stored one (brief: refuse only when
	 * set). */
	doc->lineage[0] = '\0';
	r = lbr_state_save(st, doc, err, sizeof(err));
	tap_ok(r == 0 && strstr(before, doc->lineage),
	       "empty doc lineage adopts the stored lineage");
	free(before);
	lbr_state_free(doc);
	lbr_state_store_free(st);
}

static void test_corrupt(void)
{
	static const struct {
		const char *name, *text;
		size_t len; /* 0: strlen */
		const char *why;
	} cases[] = {
		{ "invalid JSON", "{\"format_version\":1,,}", 0, "invalid JSON" },
		{ "truncated", "{\"format_version\":1,\"lineage\":\"0000", 0, "truncated" },
		{ "empty", "", 0, "empty" },
		{ "trailing garbage",
		  "{\"format_version\":1,\"lineage\":\"00000000-0000-4000-8000-"
		  "000000000000\",\"serial\":3}\n{}",
		  0, "trailing" },
		{ "NUL after document",
		  "{\"format_version\":1,\"lineage\":\"00000000-0000-4000-8000-"
		  "000000000000\",\"serial\":3}\0",
		  81, "trailing" },
		{ "serial wrong type",
		  "{\"format_version\":1,\"lineage\":\"00000000-0000-4000-8000-"
		  "000000000000\",\"serial\":\"3\"}",
		  0, "'serial' is not" },
		{ "negative serial",
		  "{\"format_version\":1,\"lineage\":\"00000000-0000-4000-8000-"
		  "000000000000\",\"serial\":-1}",
		  0, "out of range" },
		{ "missing lineage", "{\"format_version\":1,\"serial\":3}", 0,
		  "missing 'lineage'" },
		{ "missing serial",
		  "{\"format_version\":1,\"lineage\":\"00000000-0000-4000-8000-"
		  "000000000000\"}",
		  0, "missing 'serial'" },
		{ "lineage not a UUID", "{\"format_version\":1,\"lineage\":\"x\",\"serial\":3}", 0,
		  "not a UUID" },
		{ "not an object", "[1,2]", 0, "not a JSON object" },
		{ "members not an array",
		  "{\"format_version\":1,\"lineage\":\"00000000-0000-4000-8000-"
		  "000000000000\",\"serial\":3,\"pools\":{\"web\":{\"provider\":"
		  "\"hw\",\"members\":{}}}}",
		  0, "'members' is not an array" },
		{ "port out of range",
		  "{\"format_version\":1,\"lineage\":\"00000000-0000-4000-8000-"
		  "000000000000\",\"serial\":3,\"pools\":{\"web\":{\"provider\":"
		  "\"hw\",\"members\":[{\"id\":\"a\",\"address\":\"10.0.0.1\","
		  "\"port\":70000}]}}}",
		  0, "out of range" },
		{ "bad time",
		  "{\"format_version\":1,\"lineage\":\"00000000-0000-4000-8000-"
		  "000000000000\",\"serial\":3,\"updated_at\":\"yesterday\"}",
		  0, "RFC 3339" },
		{ "pool without provider",
		  "{\"format_version\":1,\"lineage\":\"00000000-0000-4000-8000-"
		  "000000000000\",\"serial\":3,\"pools\":{\"web\":{}}}",
		  0, "missing 'provider'" },
	};
	struct lbr_state_store *st = open_store();
	struct lbr_state *doc = NULL;
	char err[512], *after;
	size_t i, len, alen;
	int r;

	lbr_state_lock(st, "apply", 0, NULL, err, sizeof(err));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = cases[i].len ? cases[i].len : strlen(cases[i].text);
		spit(path, cases[i].text, len);
		r = lbr_state_load(st, &doc, err, sizeof(err));
		tap_ok(r == LBR_ECORRUPT && doc == NULL && strstr(err, "is corrupt") &&
			       strstr(err, path) && strstr(err, cases[i].why),
		       "load refuses %s: %s", cases[i].name, err);
		doc = lbr_state_new();
		r = lbr_state_save(st, doc, err, sizeof(err));
		lbr_state_free(doc);
		doc = NULL;
		after = slurp(path, &alen);
		tap_ok(r == LBR_ECORRUPT && after && alen == len &&
			       memcmp(after, cases[i].text, len) == 0,
		       "save refuses %s and leaves it byte-identical", cases[i].name);
		free(after);
	}

	spit(path, "{\"format_version\":3,\"lineage\":\"x\",\"serial\":3}",
	     strlen("{\"format_version\":3,\"lineage\":\"x\",\"serial\":3}"));
	r = lbr_state_load(st, &doc, err, sizeof(err));
	tap_ok(r < 0 && strstr(err, "newer lbreconcile (format_version 3)"),
	       "newer format refused: %s", err);

	{
		const char *t = "{\"format_version\":1,\"future\":[1,{}],"
				"\"lineage\":\"00000000-0000-4000-8000-000000000000\","
				"\"serial\":7,\"pools\":{\"w\":{\"provider\":\"hw\","
				"\"new\":1,\"members\":[{\"id\":\"a\",\"address\":"
				"\"10.0.0.1\",\"port\":1,\"weight\":3}]}}}  \n";

		spit(path, t, strlen(t));
		r = lbr_state_load(st, &doc, err, sizeof(err));
		tap_ok(r == 0 && doc->serial == 7 && doc->n_pools == 1 &&
			       doc->pools[0].n_members == 1,
		       "unknown keys and trailing whitespace tolerated");
		lbr_state_free(doc);
		doc = NULL;
	}
	lbr_state_store_free(st);
}

/* Robustness of the parser (the fuzz entry point): mutations and
 * truncations of a valid document must never crash (ASan/valgrind catch
 * leaks when this runs under them). */
static void test_parse_mutations(void)
{
	struct lbr_state *doc = NULL, *d2;
	struct lbr_state_pool p;
	char *text, *buf, err[512];
	size_t len, i;
	int ok = 0, bad = 0, r;

	doc = lbr_state_new();
	make_pool(&p, "web");
	lbr_state_pool_put(doc, &p);
	memcpy(doc->lineage, "00000000-0000-4000-8000-000000000000", 37);
	doc->serial = 5;
	text = lbr_state_to_json(doc, NULL);
	len = strlen(text);
	r = lbr_state_parse(text, len, &d2, err, sizeof(err));
	tap_ok(r == 0 && d2->serial == 5, "to_json output parses back");
	lbr_state_free(d2);
	buf = malloc(len);
	srand(42);
	for (i = 0; i < 3000; i++) {
		size_t n = len;

		memcpy(buf, text, len);
		if (i % 3 == 0)
			n = (size_t)rand() % len;
		else
			buf[rand() % len] = (char)(rand() % 256);
		d2 = NULL;
		r = lbr_state_parse(buf, n, &d2, err, sizeof(err));
		if (r == 0 && d2)
			ok++;
		else if (r < 0 && !d2 && err[0])
			bad++;
		lbr_state_free(d2);
	}
	tap_is_int(ok + bad, 3000,
		   "3000 mutated documents: each parsed or refused with a "
		   "message (%d refused)",
		   bad);
	for (i = 0; i + 1 < len; i++) {
		d2 = NULL;
		r = lbr_state_parse(text, i, &d2, err, sizeof(err));
		if (r != LBR_ECORRUPT || d2)
			break;
	}
	tap_is_int(i, len - 1, "every strict prefix of a document is corrupt");
	free(buf);
	free(text);
	lbr_state_free(doc);
}

/* Replay tests/fixtures/state: valid-*.json parse (and survive a
 * to_json/parse round trip unchanged), corrupt-*.json are refused. */
static void test_fixtures(void)
{
	const char *names[] = {
		"valid-full.json",
		"valid-minimal.json",
		"corrupt-truncated.json",
		"corrupt-two-documents.json",
		"corrupt-port-string.json",
		"corrupt-bad-address.json",
		"corrupt-serial-float.json",
		"corrupt-no-lineage.json",
		"corrupt-trailing-comma.json",
		"valid-v2.json",
		"corrupt-owned-not-canonical.json",
		"corrupt-counter-negative.json",
	};
	const char *src = getenv("top_srcdir");
	struct lbr_state *doc, *again;
	char p[600], err[512], *buf, *j1, *j2;
	size_t i, len;
	int r;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/tests/fixtures/state/%s", src && *src ? src : ".",
			 names[i]);
		buf = slurp(p, &len);
		if (!buf) {
			tap_ok(0, "fixture %s readable", p);
			continue;
		}
		doc = NULL;
		r = lbr_state_parse(buf, len, &doc, err, sizeof(err));
		if (!strncmp(names[i], "valid-", 6)) {
			again = NULL;
			j1 = r == 0 ? lbr_state_to_json(doc, NULL) : NULL;
			j2 = NULL;
			if (j1 && lbr_state_parse(j1, strlen(j1), &again, err, sizeof(err)) == 0)
				j2 = lbr_state_to_json(again, NULL);
			tap_ok(r == 0 && j1 && j2 && !strcmp(j1, j2),
			       "fixture %s parses and round-trips", names[i]);
			free(j1);
			free(j2);
			lbr_state_free(again);
		} else {
			tap_ok(r == LBR_ECORRUPT && !doc, "fixture %s refused: %s", names[i], err);
		}
		lbr_state_free(doc);
		free(buf);
	}
}

static void test_backup_fallback(void)
{
	struct lbr_state_store *st;
	struct lbr_state *doc = NULL;
	char err[512];
	int r;

	unlink(path);
	unlink(sfx(".backup"));
	st = open_store();
	lbr_state_lock(st, "apply", 0, NULL, err, sizeof(err));
	doc = lbr_state_new();
	lbr_state_save(st, doc, err, sizeof(err));
	lbr_state_save(st, doc, err, sizeof(err));
	lbr_state_free(doc);
	doc = NULL;
	unlink(path);
	r = lbr_state_load(st, &doc, err, sizeof(err));
	tap_ok(r == 0 && doc && doc->serial == 1 && strstr(err, ".backup") &&
		       lbr_state_store_message(st) != NULL,
	       "missing FILE falls back to FILE.backup with a warning: %s", err);
	r = lbr_state_save(st, doc, err, sizeof(err));
	tap_ok(r == 0 && doc->serial == 2, "save after fallback continues serial");
	lbr_state_free(doc);
	doc = NULL;
	r = lbr_state_load(st, &doc, err, sizeof(err));
	tap_ok(r == 0 && err[0] == '\0' && lbr_state_store_message(st) == NULL,
	       "normal load: no warning");
	lbr_state_free(doc);
	lbr_state_store_free(st);
}

struct child_report {
	int r;
	double elapsed;
	struct lbr_lock_info h;
	char err[512];
};

/* Fork a child that tries to lock with timeout t and reports back. */
static void lock_in_child(int t, struct child_report *rep)
{
	int fds[2], status;
	pid_t pid;

	memset(rep, 0, sizeof(*rep));
	if (pipe(fds) < 0)
		abort();
	pid = fork();
	if (pid == 0) {
		struct lbr_state_store *st = open_store();
		struct timespec a, b;

		close(fds[0]);
		clock_gettime(CLOCK_MONOTONIC, &a);
		rep->r = lbr_state_lock(st, "run", t, &rep->h, rep->err, sizeof(rep->err));
		clock_gettime(CLOCK_MONOTONIC, &b);
		rep->elapsed = (double)(b.tv_sec - a.tv_sec) +
			       (double)(b.tv_nsec - a.tv_nsec) / 1e9;
		if (write(fds[1], rep, sizeof(*rep)) != sizeof(*rep))
			_exit(2);
		_exit(0);
	}
	close(fds[1]);
	if (read(fds[0], rep, sizeof(*rep)) != sizeof(*rep))
		rep->r = 999;
	close(fds[0]);
	waitpid(pid, &status, 0);
}

static void test_lock(void)
{
	struct lbr_state_store *st = open_store(), *st2;
	struct lbr_lock_info info;
	struct child_report rep;
	char err[512], host[256] = "", *s;
	int r, fds[2], status;
	pid_t pid;

	gethostname(host, sizeof(host) - 1);
	r = lbr_state_lock(st, "apply", 0, NULL, err, sizeof(err));
	tap_is_int(r, 0, "parent takes the lock");
	r = lbr_state_lock(st, "apply", 0, NULL, err, sizeof(err));
	tap_is_int(r, LBR_EINVAL, "locking twice through one store refused");
	s = slurp(sfx(".lock"), NULL);
	tap_ok(s && strstr(s, "\"operation\":\"apply\""), "lock file holds the info: %s",
	       s ? s : "");
	free(s);

	lock_in_child(0, &rep);
	tap_is_int(rep.r, LBR_ELOCKED, "child: timeout 0 gives LBR_ELOCKED");
	tap_is_int(rep.h.pid, getpid(), "child: holder pid is the parent");
	tap_is_str(rep.h.host, host, "child: holder host");
	tap_is_str(rep.h.operation, "apply", "child: holder operation");
	tap_ok(strlen(rep.h.id) == 36 && time(NULL) - rep.h.created < 60,
	       "child: holder id and created");
	tap_ok(strstr(rep.err, "is locked by pid") != NULL, "child: message: %s", rep.err);
	tap_ok(rep.elapsed < 0.5, "timeout 0 is one try (%.3f s)", rep.elapsed);

	lock_in_child(1, &rep);
	tap_ok(rep.r == LBR_ELOCKED && rep.elapsed >= 0.9 && rep.elapsed < 2.0,
	       "timeout 1 waits about 1 s (%.3f s)", rep.elapsed);

	r = lbr_state_lock_info(st, &info);
	tap_ok(r == 0 && info.pid == getpid() && strlen(info.id) == 36, "lock_info: held, by us");
	r = lbr_state_force_unlock(st, info.id, 0, err, sizeof(err));
	tap_ok(r == LBR_ELOCKED && strstr(err, "live"), "force_unlock of a live lock refused: %s",
	       err);

	tap_is_int(lbr_state_unlock(st), 0, "unlock");
	tap_ok(access(sfx(".lock"), F_OK) == 0, "lock file kept after unlock");
	tap_is_int(lbr_state_lock_info(st, &info), LBR_ENOENT, "lock_info after unlock: none");
	r = lbr_state_force_unlock(st, "00000000-0000-4000-8000-000000000000", 0, err, sizeof(err));
	tap_is_int(r, LBR_ENOENT, "force_unlock with no lock: LBR_ENOENT");

	/* A child locks, then dies holding it (stale). */
	if (pipe(fds) < 0)
		abort();
	pid = fork();
	if (pid == 0) {
		struct lbr_state_store *c = open_store();
		char e[512];

		close(fds[0]);
		if (lbr_state_lock(c, "run", 0, NULL, e, sizeof(e)) == 0)
			(void)!write(fds[1], "x", 1);
		/* Wait to be killed: the lock is live until then. */
		pause();
		_exit(0);
	}
	close(fds[1]);
	tap_ok(read(fds[0], &status, 1) == 1, "child took the lock");
	close(fds[0]);
	r = lbr_state_lock_info(st, &info);
	tap_ok(r == 0 && info.pid == pid, "lock_info: held by the child");
	r = lbr_state_lock(st, "apply", 0, NULL, err, sizeof(err));
	tap_is_int(r, LBR_ELOCKED, "parent cannot lock while the child lives");
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);

	r = lbr_state_lock_info(st, &info);
	tap_ok(r == 1 && info.pid == pid, "lock_info after the child died: stale");
	r = lbr_state_force_unlock(st, "00000000-0000-4000-8000-000000000000", 0, err, sizeof(err));
	tap_ok(r == LBR_EINVAL && strstr(err, "does not match"),
	       "force_unlock with the wrong id: %s", err);
	r = lbr_state_force_unlock(st, info.id, 0, err, sizeof(err));
	tap_is_int(r, 0, "force_unlock with the right id");
	tap_is_int(lbr_state_lock_info(st, &info), LBR_ENOENT,
		   "lock_info after force_unlock: none");

	/* Another stale lock: taking the lock simply succeeds. */
	pid = fork();
	if (pid == 0) {
		struct lbr_state_store *c = open_store();
		char e[512];

		_exit(lbr_state_lock(c, "run", 0, NULL, e, sizeof(e)) ? 1 : 0);
	}
	waitpid(pid, &status, 0);
	/* (Exit status 1 means the lock failed; valgrind may use others.) */
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) != 1 && lbr_state_lock_info(st, &info) == 1,
	       "child exited holding the lock: stale info left");
	r = lbr_state_lock(st, "apply", 0, NULL, err, sizeof(err));
	tap_is_int(r, 0, "a stale lock does not block locking");
	r = lbr_state_lock_info(st, &info);
	tap_ok(r == 0 && info.pid == getpid(), "lock info is now ours");

	/* Freeing the store releases the lock. */
	lbr_state_store_free(st);
	st2 = open_store();
	r = lbr_state_lock(st2, "apply", 0, NULL, err, sizeof(err));
	tap_is_int(r, 0, "store_free released the lock");
	lbr_state_store_free(st2);
}

static void test_audit(void)
{
	struct lbr_state_store *st = open_store();
	struct lbr_audit_rec rec = {
		.time = 1700000000,
		.pool = "web",
		.provider = "hw",
		.member_id = "m1",
		.address = "10.0.0.9",
		.port = 80,
		.action = "remove",
		.outcome = "ok",
		.request_id = "req-1",
		.detail = NULL,
	};
	char *log, *line, *save = NULL;
	json_object *o, *v;
	int n = 0, good = 0;
	mode_t old;

	unlink(sfx(".log"));
	old = umask(0277);
	tap_is_int(lbr_state_audit(st, &rec), 0, "audit record 1");
	umask(old);
	rec.outcome = "error";
	rec.request_id = NULL;
	rec.detail = "HTTP 500 \"quoted\"\nnewline";
	tap_is_int(lbr_state_audit(st, &rec), 0, "audit record 2");
	tap_is_int(mode_of(sfx(".log")), 0600, "audit log mode 0600");
	log = slurp(sfx(".log"), NULL);
	for (line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		n++;
		o = json_tokener_parse(line);
		if (o && json_object_object_get_ex(o, "pool", &v) &&
		    !strcmp(json_object_get_string(v), "web") &&
		    json_object_object_get_ex(o, "port", &v) && json_object_get_int(v) == 80 &&
		    json_object_object_get_ex(o, "time", &v) &&
		    !strcmp(json_object_get_string(v), "2023-11-14T22:13:20Z") &&
		    json_object_object_get_ex(o, "member", &v) &&
		    json_object_object_get_ex(o, "action", &v))
			good++;
		if (n == 2 && o) {
			tap_ok(json_object_object_get_ex(o, "request_id", &v) && v == NULL,
			       "missing request_id is null");
			tap_ok(json_object_object_get_ex(o, "detail", &v) &&
				       !strcmp(json_object_get_string(v), rec.detail),
			       "detail round trips");
		}
		json_object_put(o);
	}
	tap_ok(n == 2 && good == 2, "two audit lines, each one JSON object");
	free(log);
	lbr_state_store_free(st);
}

/* The ids of this process's threads (entries of /proc/self/task); n of
 * them at most, the count returned. */
static int thread_ids(long *ids, int n)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int k = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL && k < n)
		if (e->d_name[0] != '.')
			ids[k++] = strtol(e->d_name, NULL, 10);
	closedir(d);
	return k;
}

/* A thread that is not among ids[0..n), or 0. */
static long new_thread(const long *ids, int n)
{
	long now[64];
	int m = thread_ids(now, 64), a, b;

	for (a = 0; a < m; a++) {
		for (b = 0; b < n && ids[b] != now[a]; b++)
			;
		if (b == n)
			return now[a];
	}
	return 0;
}

/* A store freed as the process exits (apply): the lock is released and
 * the audit lines are in the log as with lbr_state_store_free, and the
 * audit syncer is left to the kernel rather than waited for. */
static void test_free_at_exit(void)
{
	struct lbr_state_store *st = open_store(), *st2;
	struct lbr_audit_rec rec = { .time = 1700000000,
				     .pool = "web",
				     .provider = "hw",
				     .member_id = "m-at-exit",
				     .address = "10.0.0.7",
				     .port = 80,
				     .action = "remove",
				     .outcome = "ok" };
	char err[512], *log, task[64];
	long before[64], syncer;
	int n, r;

	unlink(sfx(".log"));
	r = lbr_state_lock(st, "apply", 0, NULL, err, sizeof(err));
	tap_is_int(r, 0, "at exit: locked");
	n = thread_ids(before, 64);
	tap_is_int(lbr_state_audit(st, &rec), 0, "at exit: an audit line written");
	syncer = n >= 0 ? new_thread(before, n) : 0;
	tap_ok(syncer > 0, "at exit: the audit syncer started (thread %ld)", syncer);
	lbr_state_store_free_at_exit(st);
	snprintf(task, sizeof(task), "/proc/self/task/%ld", syncer);
	tap_ok(syncer > 0 && access(task, F_OK) == 0, "at exit: the syncer is not waited for");
	log = slurp(sfx(".log"), NULL);
	tap_ok(log && strstr(log, "\"m-at-exit\"") != NULL,
	       "at exit: the line is in the audit log");
	free(log);
	st2 = open_store();
	r = lbr_state_lock(st2, "apply", 0, NULL, err, sizeof(err));
	tap_is_int(r, 0, "at exit: the lock was released");
	lbr_state_store_free(st2);
}

/* What the audit writer wrote with json-c before it had its own writer:
 * the reference its lines must equal byte for byte. */
static char *jsonc_audit_line(const struct lbr_audit_rec *r)
{
	json_object *o = json_object_new_object();
	char when[LBR_TIME_LEN];
	char *line;
	const char *txt;

	lbr_state_fmt_time(r->time, when);
	json_object_object_add(o, "time", json_object_new_string(when));
	json_object_object_add(o, "pool", r->pool ? json_object_new_string(r->pool) : NULL);
	json_object_object_add(o, "provider",
			       r->provider ? json_object_new_string(r->provider) : NULL);
	json_object_object_add(o, "member",
			       r->member_id ? json_object_new_string(r->member_id) : NULL);
	json_object_object_add(o, "address",
			       r->address ? json_object_new_string(r->address) : NULL);
	json_object_object_add(o, "port", json_object_new_int((int)r->port));
	json_object_object_add(o, "action", r->action ? json_object_new_string(r->action) : NULL);
	json_object_object_add(o, "outcome",
			       r->outcome ? json_object_new_string(r->outcome) : NULL);
	json_object_object_add(o, "request_id",
			       r->request_id ? json_object_new_string(r->request_id) : NULL);
	json_object_object_add(o, "detail", r->detail ? json_object_new_string(r->detail) : NULL);
	txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							JSON_C_TO_STRING_NOSLASHESCAPE);
	line = malloc(strlen(txt) + 2);
	sprintf(line, "%s\n", txt);
	json_object_put(o);
	return line;
}

static void test_audit_lines(void)
{
	struct lbr_state_store *st = open_store();
	struct lbr_audit_rec recs[3];
	char every[256], *mine, *ref, *log, *lines;
	size_t len, i, same = 0;
	struct stat sb;
	int rcs[3] = { 9, 9, 9 };
	unsigned k;

	/* Every byte value but NUL, in a detail and in a member id. */
	for (i = 0; i < 255; i++)
		every[i] = (char)(i + 1);
	every[255] = '\0';
	memset(recs, 0, sizeof(recs));
	recs[0] = (struct lbr_audit_rec){ .time = 1700000000,
					  .pool = "web/\"a\"",
					  .provider = "hw",
					  .member_id = every,
					  .address = "2001:db8::5",
					  .port = 65535,
					  .action = "remove",
					  .outcome = "error",
					  .request_id = "r\\1",
					  .detail = every };
	recs[1] = (struct lbr_audit_rec){ .time = 1, .pool = "p", .action = "drain" };
	recs[2] = (struct lbr_audit_rec){ .time = 4102444800,
					  .pool = "",
					  .provider = "",
					  .member_id = "",
					  .address = "",
					  .action = "",
					  .outcome = "",
					  .request_id = "",
					  .detail = "\t\x7f\xc3\xa9" };
	for (k = 0; k < 3; k++) {
		mine = lbr_state_audit_line(&recs[k]);
		ref = jsonc_audit_line(&recs[k]);
		same += mine && ref && !strcmp(mine, ref);
		if (!(mine && ref && !strcmp(mine, ref)))
			printf("# record %u:\n#  mine %s#  json-c %s", k, mine ? mine : "(null)\n",
			       ref);
		free(mine);
		free(ref);
	}
	tap_ok(same == 3,
	       "audit lines are byte for byte json-c's plain layout (every byte value, nulls, empty strings)");
	lines = lbr_state_audit_lines(recs, 3, &len);
	ref = NULL;
	{
		char *a = jsonc_audit_line(&recs[0]), *b = jsonc_audit_line(&recs[1]),
		     *c = jsonc_audit_line(&recs[2]);

		ref = malloc(strlen(a) + strlen(b) + strlen(c) + 1);
		sprintf(ref, "%s%s%s", a, b, c);
		free(a);
		free(b);
		free(c);
	}
	tap_ok(lines && len == strlen(ref) && !memcmp(lines, ref, len),
	       "three records make the three lines in order, in one buffer");
	unlink(sfx(".log"));
	tap_is_int(lbr_state_audit_many(st, recs, 3, rcs), 0, "audit_many records all three");
	tap_ok(rcs[0] == 0 && rcs[1] == 0 && rcs[2] == 0, "audit_many: each record's result is 0");
	log = slurp(sfx(".log"), NULL);
	tap_ok(log && !strcmp(log, ref), "the local log holds exactly those lines");
	tap_ok(stat(sfx(".log"), &sb) == 0 && (size_t)sb.st_size == len,
	       "and nothing else (%zu bytes)", len);
	free(log);
	free(lines);
	free(ref);
	lbr_state_store_free(st);
}

static uint64_t serial_of(const char *p, int *ok)
{
	struct lbr_state *doc = NULL;
	char *buf, err[512];
	size_t len;
	uint64_t s = 0;

	*ok = 0;
	buf = slurp(p, &len);
	if (buf && lbr_state_parse(buf, len, &doc, err, sizeof(err)) == 0) {
		*ok = 1;
		s = doc->serial;
	}
	lbr_state_free(doc);
	free(buf);
	return s;
}

/* Kill a saving process at random points: FILE must always parse, the
 * backup too, and the serial in FILE never goes backwards. */
static void test_crash_loop(void)
{
	uint64_t last = 0, first, s;
	int i, ok, all_file = 1, all_backup = 1, monotonic = 1, status;
	pid_t pid;

	first = serial_of(path, &ok);
	tap_ok(ok, "state parses before the crash loop");
	last = first;
	srand((unsigned)getpid());
	for (i = 0; i < 50; i++) {
		int fds[2];
		char c;

		if (pipe(fds) < 0)
			abort();
		pid = fork();
		if (pid == 0) {
			struct lbr_state_store *st = open_store();
			struct lbr_state *doc = NULL;
			struct lbr_state_pool p;
			char e[512];

			close(fds[0]);
			if (lbr_state_lock(st, "apply", 5, NULL, e, sizeof(e)))
				_exit(1);
			/* Tell the parent to start the clock: the kill must
			 * land among saves, not during start-up. */
			if (write(fds[1], "x", 1) != 1)
				_exit(4);
			make_pool(&p, "web");
			for (;;) {
				if (lbr_state_load(st, &doc, e, sizeof(e)) < 0)
					_exit(2);
				lbr_state_pool_put(doc, &p);
				if (lbr_state_save(st, doc, e, sizeof(e)) < 0)
					_exit(3);
				lbr_state_free(doc);
			}
		}
		close(fds[1]);
		if (read(fds[0], &c, 1) != 1)
			printf("# child %d did not lock\n", i);
		close(fds[0]);
		usleep((useconds_t)(rand() % 20000));
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		if (!WIFSIGNALED(status))
			printf("# child %d exited with %d\n", i, WEXITSTATUS(status));
		s = serial_of(path, &ok);
		if (!ok)
			all_file = 0;
		if (s < last)
			monotonic = 0;
		if (ok)
			last = s;
		serial_of(sfx(".backup"), &ok);
		if (!ok && access(sfx(".backup"), F_OK) == 0)
			all_backup = 0;
	}
	tap_ok(all_file, "after 50 kills FILE always parses");
	tap_ok(all_backup, "after 50 kills FILE.backup always parses");
	tap_ok(monotonic, "serial never decreased");
	tap_ok(last > first, "saves happened during the loop (%llu -> %llu)",
	       (unsigned long long)first, (unsigned long long)last);
}

/* ---- etcd backend, against a real etcd on 127.0.0.1 ---------------- */

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static int port_open(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static pid_t start_etcd(const char *bin, int cport)
{
	char data[400], log[400], curl_[64], purl[64], cluster[96];
	int pport = free_port(), i, fd;
	pid_t pid;

	snprintf(data, sizeof(data), "%s/etcd-data", dir);
	snprintf(log, sizeof(log), "%s/etcd.log", dir);
	snprintf(curl_, sizeof(curl_), "http://127.0.0.1:%d", cport);
	snprintf(purl, sizeof(purl), "http://127.0.0.1:%d", pport);
	snprintf(cluster, sizeof(cluster), "default=%s", purl);
	pid = fork();
	if (pid == 0) {
		/* Do not outlive a crashed test. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(bin, bin, "--data-dir", data, "--listen-client-urls", curl_,
		      "--advertise-client-urls", curl_, "--listen-peer-urls", purl,
		      "--initial-advertise-peer-urls", purl, "--initial-cluster", cluster,
		      (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 200 && !port_open(cport); i++)
		usleep(50000);
	return pid;
}

/* The HTTP client the agent would install, here on libcurl. */
static int http_calls;

static size_t curl_body(char *d, size_t sz, size_t nm, void *u)
{
	struct {
		char *p;
		size_t n;
	} *b = u;
	char *g = realloc(b->p, b->n + sz * nm + 1);

	if (!g)
		return 0;
	memcpy(g + b->n, d, sz * nm);
	b->p = g;
	b->n += sz * nm;
	b->p[b->n] = '\0';
	return sz * nm;
}

static int curl_http(void *ud, const struct lbr_http_request *req, struct lbr_http_response *resp,
		     char *err, size_t errlen)
{
	struct {
		char *p;
		size_t n;
	} b = { NULL, 0 };
	struct curl_slist *h = NULL;
	CURL *c = curl_easy_init();
	CURLcode rc;
	size_t i;

	(void)ud;
	http_calls++;
	for (i = 0; req->headers && req->headers[i]; i++)
		h = curl_slist_append(h, req->headers[i]);
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s", curl_easy_strerror(rc));
		free(b.p);
		return LBR_ETRANSPORT;
	}
	resp->body = b.p ? b.p : strdup("");
	resp->body_len = b.n;
	return 0;
}

static void curl_release(void *ud, struct lbr_http_response *resp)
{
	(void)ud;
	free((void *)resp->body);
}

static void test_etcd(void)
{
	const char *bin = getenv("ETCD") ? getenv("ETCD") : "/usr/bin/etcd";
	struct lbr_state_store *a = NULL, *b = NULL, *a2 = NULL;
	struct lbr_state *doc = NULL, *back = NULL;
	struct lbr_state_pool p;
	struct lbr_lock_info info;
	struct lbr_audit_rec rec = {
		.pool = "web", .member_id = "m1", .action = "remove", .outcome = "ok"
	};
	struct lbr_state_io io = { curl_http, curl_release, NULL, NULL };
	char spec[128], err[512];
	uint64_t now, until;
	int cport, r, i;
	pid_t pid;

	if (access(bin, X_OK) != 0) {
		printf("ok %d # SKIP no etcd at %s\n", ++tap_n, bin);
		return;
	}
	lbr_state_set_io(&io);
	cport = free_port();
	pid = start_etcd(bin, cport);
	snprintf(spec, sizeof(spec), "etcd://127.0.0.1:%d/lbr/test/", cport);
	r = lbr_state_store_open(spec, NULL, &a, err, sizeof(err));
	tap_is_int(r, 0, "etcd: open store a");
	lbr_state_store_open(spec, NULL, &b, err, sizeof(err));

	/* etcd may accept connections before it serves; retry a little. */
	for (i = 0; i < 50; i++) {
		r = lbr_state_load(a, &doc, err, sizeof(err));
		if (r == 0)
			break;
		usleep(100000);
	}
	tap_ok(r == 0 && doc && doc->serial == 0 && !doc->lineage[0],
	       "etcd: empty state loads as an empty document");
	if (r != 0)
		goto out;
	r = lbr_state_save(a, doc, err, sizeof(err));
	tap_is_int(r, LBR_EINVAL, "etcd: save without the lock refused");

	r = lbr_state_lock(a, "apply", 0, NULL, err, sizeof(err));
	tap_ok(r == 0, "etcd: a locks");
	r = lbr_state_lock_info(b, &info);
	tap_ok(r == 0 && info.pid == getpid() && !strcmp(info.operation, "apply"),
	       "etcd: lock_info sees a's lock");
	memset(&info, 0, sizeof(info));
	r = lbr_state_lock(b, "run", 0, &info, err, sizeof(err));
	tap_ok(r == LBR_ELOCKED && info.pid == getpid() && strlen(info.id) == 36,
	       "etcd: b cannot lock: %s", err);

	make_pool(&p, "web");
	lbr_state_pool_put(doc, &p);
	r = lbr_state_save(a, doc, err, sizeof(err));
	tap_ok(r == 0 && doc->serial == 1, "etcd: first save, serial 1");
	r = lbr_state_save(a, doc, err, sizeof(err));
	tap_ok(r == 0 && doc->serial == 2, "etcd: second save, serial 2");
	r = lbr_state_load(b, &back, err, sizeof(err));
	tap_ok(r == 0 && back->serial == 2 && !strcmp(back->lineage, doc->lineage) &&
		       back->n_pools == 1 && back->pools[0].n_members == 4 &&
		       !strcmp(back->pools[0].members[0].id, "m1"),
	       "etcd: b loads what a saved");
	lbr_state_free(back);
	back = NULL;

	r = lbr_state_force_unlock(b, "00000000-0000-4000-8000-000000000000", 0, err, sizeof(err));
	tap_is_int(r, LBR_EINVAL, "etcd: force_unlock with a wrong id");
	r = lbr_state_force_unlock(b, info.id, 0, err, sizeof(err));
	tap_ok(r == LBR_ELOCKED && strstr(err, "lease is alive") && strstr(err, "s left") &&
		       strstr(err, info.id),
	       "etcd: a live lease is not broken without force: %s", err);
	r = lbr_state_force_unlock(b, info.id, 1, err, sizeof(err));
	tap_ok(r == 0, "etcd: force_unlock with the right id and force");
	r = lbr_state_lock(b, "run", 0, NULL, err, sizeof(err));
	tap_ok(r == 0, "etcd: b locks after the break");
	r = lbr_state_save(a, doc, err, sizeof(err));
	tap_ok(r == LBR_EFENCED && strstr(err, "fenced"), "etcd: a's late save is fenced: %s", err);
	r = lbr_state_load(b, &back, err, sizeof(err));
	tap_ok(r == 0 && back->serial == 2, "etcd: fenced save wrote nothing");
	back->lineage[0] = '\0';
	r = lbr_state_save(b, back, err, sizeof(err));
	tap_ok(r == 0 && back->serial == 3 && !strcmp(back->lineage, doc->lineage),
	       "etcd: b saves serial 3");
	memcpy(back->lineage, "00000000-0000-4000-8000-000000000000", 37);
	r = lbr_state_save(b, back, err, sizeof(err));
	tap_is_int(r, LBR_EFOREIGN, "etcd: foreign lineage refused");
	tap_is_int(lbr_state_audit(b, &rec), 0, "etcd: audit record");
	lbr_state_unlock(a);
	lbr_state_unlock(b);
	r = lbr_state_lock_info(a, &info);
	tap_is_int(r, LBR_ENOENT, "etcd: unlock removed the lock key");
	r = lbr_state_lock(a, "apply", 1, NULL, err, sizeof(err));
	tap_ok(r == 0, "etcd: a locks again after b unlocked");

	now = lbr_state_now_ms();
	until = lbr_state_lock_valid_until_ms(a);
	tap_ok(until > now && until <= now + 15000,
	       "etcd: valid until within the default TTL (%llu ms left)",
	       (unsigned long long)(until - now));
	r = lbr_state_keepalive(a, err, sizeof(err));
	tap_ok(r == 0 && lbr_state_lock_valid_until_ms(a) >= until,
	       "etcd: keepalive renews the lease: %s", r ? err : "");
	tap_ok(lbr_state_lock_valid_until_ms(b) == 0,
	       "etcd: valid until 0 for a store not holding the lock");

	/* Lease loss: break a's lock (revoking its lease); a's next
	 * keepalive learns it, and the save is not even attempted. */
	r = lbr_state_lock_info(b, &info);
	r = r == 0 ? lbr_state_force_unlock(b, info.id, 1, err, sizeof(err)) : r;
	tap_is_int(r, 0, "etcd: break a's lock again");
	r = lbr_state_keepalive(a, err, sizeof(err));
	tap_ok(r == LBR_EFENCED && lbr_state_lock_valid_until_ms(a) == 0,
	       "etcd: keepalive notices the lost lease: %s", err);
	r = lbr_state_save(a, doc, err, sizeof(err));
	tap_ok(r == LBR_EFENCED && strstr(err, "lease expired"),
	       "etcd: no save after the lease was lost: %s", err);
	lbr_state_unlock(a);

	/* The lease is granted when the lock is taken: b may wait longer
	 * than the TTL (a2 never renews its 2 s lease, so it expires while
	 * b waits up to 20 s). */
	lbr_state_store_open(spec, NULL, &a2, err, sizeof(err));
	lbr_state_store_set_lock_ttl(a2, 2);
	tap_is_int(lbr_state_store_set_lock_ttl(b, 0), LBR_EINVAL, "lock_ttl 0 refused");
	lbr_state_store_set_lock_ttl(b, 2);
	r = lbr_state_lock(a2, "apply", 0, NULL, err, sizeof(err));
	tap_is_int(r, 0, "etcd: a2 locks with a 2 s lease");
	r = lbr_state_lock(b, "run", 20, NULL, err, sizeof(err));
	now = lbr_state_now_ms();
	tap_ok(r == 0 && lbr_state_lock_valid_until_ms(b) > now + 500,
	       "etcd: b's wait outlasted the TTL and its own lease is fresh: %s", r ? err : "");
	tap_ok(now >= lbr_state_lock_valid_until_ms(a2), "etcd: a2's valid-until has passed");
	r = lbr_state_save(a2, doc, err, sizeof(err));
	tap_ok(r == LBR_EFENCED, "etcd: a2 cannot save after its lease: %s", err);
	lbr_state_free(back);
	back = NULL;
	r = lbr_state_load(b, &back, err, sizeof(err));
	r = r == 0 ? lbr_state_save(b, back, err, sizeof(err)) : r;
	tap_is_int(r, 0, "etcd: b saves with the lease it got");
	tap_ok(http_calls > 0,
	       "etcd: every exchange went through the "
	       "installed HTTP client (%d calls)",
	       http_calls);
out:
	lbr_state_store_free(a2);
	lbr_state_free(doc);
	lbr_state_free(back);
	lbr_state_store_free(a);
	lbr_state_store_free(b);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/* ---- format 2: ownership, member name/weight, counters -------------- */

static const char *V1_DOC =
	"{\"format_version\":1,\"lineage\":\"3f1c9a52-6a0e-4c39-9d0b-2f4f1b7d8e21\","
	"\"serial\":5,\"pools\":{\"web\":{\"provider\":\"hw\",\"members\":[],"
	"\"owned\":[\"junk\"]}},\"counters\":{\"x\":-1}}";

static void test_format2(void)
{
	struct lbr_state_store *st;
	struct lbr_state *doc = NULL, *back = NULL;
	struct lbr_state_pool p, *q;
	char key[LBR_STATE_KEY_LEN], err[512], *text;
	int r;

	tap_ok(lbr_state_member_key("10.0.0.9", 80, key) == 0 && !strcmp(key, "10.0.0.9:80"),
	       "member key IPv4: %s", key);
	tap_ok(lbr_state_member_key("2001:DB8:0::5", 443, key) == 0 &&
		       !strcmp(key, "[2001:db8::5]:443"),
	       "member key IPv6 canonical: %s", key);
	tap_ok(lbr_state_member_key("host", 80, key) == LBR_EINVAL &&
		       lbr_state_member_key("10.0.0.9", 0, key) == LBR_EINVAL &&
		       lbr_state_member_key("10.0.0.9", 65536, key) == LBR_EINVAL,
	       "member key refuses a name and ports 0 and 65536");

	memset(&p, 0, sizeof(p));
	p.name = "web";
	p.provider = "hw";
	tap_ok(!lbr_state_pool_owns(&p, "10.0.0.9", 80), "a pool without a record owns nothing");
	tap_ok(lbr_state_pool_own(&p, "10.0.0.9", 80) == 0 &&
		       lbr_state_pool_own(&p, "2001:db8::5", 80) == 0 &&
		       lbr_state_pool_own(&p, "10.0.0.10", 80) == 0 &&
		       lbr_state_pool_own(&p, "10.0.0.9", 80) == 0 && p.has_owned && p.n_owned == 3,
	       "own three, one twice");
	tap_ok(p.n_owned == 3 && !strcmp(p.owned[0], "10.0.0.10:80") &&
		       !strcmp(p.owned[1], "10.0.0.9:80") &&
		       !strcmp(p.owned[2], "[2001:db8::5]:80"),
	       "record kept sorted");
	tap_ok(lbr_state_pool_owns(&p, "2001:DB8::5", 80) &&
		       !lbr_state_pool_owns(&p, "2001:db8::5", 81) &&
		       !lbr_state_pool_owns(&p, "10.0.0.1", 80),
	       "owns: any spelling of the address, exact port");
	tap_is_int(lbr_state_pool_own(&p, "nope", 80), LBR_EINVAL, "own refuses a non-address");
	tap_ok(lbr_state_pool_disown(&p, "10.0.0.10", 80) == 0 && p.n_owned == 2 &&
		       !lbr_state_pool_owns(&p, "10.0.0.10", 80),
	       "disown");

	doc = lbr_state_new();
	tap_is_int(doc->format_version, 2, "new documents are format 2");
	tap_ok(lbr_state_pool_put(doc, &p) == 0, "put a pool with a record");
	free(p.owned[0]);
	free(p.owned[1]);
	free(p.owned);
	q = lbr_state_pool_find(doc, "web");
	tap_ok(q && q->has_owned && q->n_owned == 2 && lbr_state_pool_owns(q, "10.0.0.9", 80),
	       "the copy has the record");
	tap_is_int((int)lbr_state_counter_get(doc, "lbreconcile_passes_total"), 0,
		   "absent counter reads 0");
	tap_ok(lbr_state_counter_add(doc, "lbreconcile_passes_total", 2) == 0 &&
		       lbr_state_counter_add(doc, "lbreconcile_passes_total", 3) == 0 &&
		       lbr_state_counter_get(doc, "lbreconcile_passes_total") == 5,
	       "counter adds up");
	tap_ok(lbr_state_counter_add(doc, "big", UINT64_MAX) == 0 &&
		       lbr_state_counter_add(doc, "big", 5) == 0 &&
		       lbr_state_counter_get(doc, "big") == (uint64_t)INT64_MAX - 1,
	       "counter saturates at 2^63-2");
	tap_ok(lbr_state_counter_add(doc, "bad name", 1) == LBR_EINVAL &&
		       lbr_state_counter_add(doc, "9x", 1) == LBR_EINVAL &&
		       lbr_state_counter_add(doc, "", 1) == LBR_EINVAL,
	       "counter names are metric names");

	strcpy(doc->lineage, "0b8c2d6e-1111-4222-8333-444455556666");
	text = lbr_state_to_json(doc, NULL);
	r = text ? lbr_state_parse(text, strlen(text), &back, err, sizeof(err)) : -1;
	q = r == 0 ? lbr_state_pool_find(back, "web") : NULL;
	tap_ok(q && q->has_owned && q->n_owned == 2 && lbr_state_pool_owns(q, "2001:db8::5", 80) &&
		       lbr_state_counter_get(back, "big") == (uint64_t)INT64_MAX - 1 &&
		       lbr_state_counter_get(back, "lbreconcile_passes_total") == 5,
	       "record and counters round trip: %s", r ? err : "");
	free(text);
	lbr_state_free(back);
	lbr_state_free(doc);
	back = doc = NULL;

	/* Member name and weight survive a save and a load. */
	st = open_store();
	unlink(path);
	unlink(sfx(".backup"));
	lbr_state_lock(st, "apply", 0, NULL, err, sizeof(err));
	doc = lbr_state_new();
	make_pool(&p, "web");
	lbr_state_pool_put(doc, &p);
	q = lbr_state_pool_find(doc, "web");
	lbr_state_pool_own(q, "10.0.0.9", 8080);
	lbr_state_counter_add(doc, "lbreconcile_members_removed_total", 3);
	r = lbr_state_save(st, doc, err, sizeof(err));
	r = r == 0 ? lbr_state_load(st, &back, err, sizeof(err)) : r;
	q = r == 0 ? lbr_state_pool_find(back, "web") : NULL;
	tap_ok(q && q->n_members == 4 && !strcmp(q->members[0].name, "web-1") &&
		       q->members[0].weight == 10 && !strcmp(q->members[1].name, "") &&
		       q->members[1].weight == 0 && !q->members[2].name &&
		       q->members[2].weight == -1 && q->members[3].weight == 100,
	       "member name and weight saved and loaded (-1/NULL when absent)");
	tap_ok(q && q->has_owned && q->n_owned == 1 && lbr_state_pool_owns(q, "10.0.0.9", 8080) &&
		       lbr_state_counter_get(back, "lbreconcile_members_removed_total") == 3,
	       "record and counters saved and loaded");
	lbr_state_free(back);
	lbr_state_free(doc);
	back = doc = NULL;

	/* Upgrade from format 1: no record, no counters, saved as 2. */
	spit(path, V1_DOC, strlen(V1_DOC));
	r = lbr_state_load(st, &doc, err, sizeof(err));
	q = r == 0 ? lbr_state_pool_find(doc, "web") : NULL;
	tap_ok(q && doc->format_version == 1 && !q->has_owned && !q->n_owned &&
		       doc->n_counters == 0,
	       "a version-1 document loads without record or counters: %s", r ? err : "");
	if (q)
		lbr_state_pool_own(q, "10.0.0.1", 80);
	r = doc ? lbr_state_save(st, doc, err, sizeof(err)) : -1;
	tap_ok(r == 0 && doc->format_version == 2 && doc->serial == 6 &&
		       !strcmp(doc->lineage, "3f1c9a52-6a0e-4c39-9d0b-2f4f1b7d8e21"),
	       "the next save writes version 2, same lineage, serial 6");
	text = slurp(path, NULL);
	tap_ok(text && strstr(text, "\"format_version\": 2") && strstr(text, "\"10.0.0.1:80\"") &&
		       !strstr(text, "junk"),
	       "the file is version 2 with the new record");
	free(text);
	lbr_state_free(doc);
	doc = NULL;
	lbr_state_store_free(st);
}

static void test_format2_corrupt(void)
{
	static const struct {
		const char *pool, *top, *why;
	} cases[] = {
		{ "\"owned\":{}", "", "pool 'web': 'owned' is not an array" },
		{ "\"owned\":[1]", "", "pool 'web': owned[0] is not a string" },
		{ "\"owned\":[\"10.0.0.1:80\",\"10.0.0.1\"]", "",
		  "pool 'web': owned[1] '10.0.0.1' is not ADDRESS:PORT" },
		{ "\"owned\":[\"10.0.0.1:0\"]", "", "owned[0] '10.0.0.1:0' is not ADDRESS:PORT" },
		{ "\"owned\":[\"10.0.0.1:65536\"]", "", "is not ADDRESS:PORT" },
		{ "\"owned\":[\"10.0.0.1:+80\"]", "", "is not ADDRESS:PORT" },
		{ "\"owned\":[\"host:80\"]", "", "owned[0] 'host:80' is not ADDRESS:PORT" },
		{ "\"owned\":[\"10.0.0.1:80\\u0000x\"]", "", "is not ADDRESS:PORT" },
		{ "\"owned\":[\"2001:db8::5:80\"]", "",
		  "owned[0] '2001:db8::5:80' is not canonical (expected '[2001:db8::5]:80')" },
		{ "\"owned\":[\"[10.0.0.1]:80\"]", "",
		  "is not canonical (expected '10.0.0.1:80')" },
		{ "\"owned\":[\"10.0.0.1:080\"]", "", "is not canonical (expected '10.0.0.1:80')" },
		{ "\"owned\":[\"10.0.0.1:80\",\"10.0.0.1:80\"]", "",
		  "pool 'web': owned '10.0.0.1:80' appears twice" },
		{ "\"members\":[{\"id\":\"a\",\"address\":\"10.0.0.1\",\"port\":1,\"weight\":-2}]",
		  "", "pool 'web': 'weight' out of range" },
		{ "\"members\":[{\"id\":\"a\",\"address\":\"10.0.0.1\",\"port\":1,\"name\":3}]", "",
		  "pool 'web': 'name' is not a string" },
		{ "", ",\"counters\":[]", "'counters' is not an object" },
		{ "", ",\"counters\":{\"passes\":-1}", "counter 'passes' is negative" },
		{ "", ",\"counters\":{\"passes\":\"1\"}", "counter 'passes' is not an integer" },
		{ "", ",\"counters\":{\"passes\":1.5}", "counter 'passes' is not an integer" },
		{ "", ",\"counters\":{\"passes\":99999999999999999999}",
		  "counter 'passes' out of range" },
		{ "", ",\"counters\":{\"a b\":1}", "counter 'a b' has an invalid name" },
	};
	struct lbr_state *doc;
	char buf[1024], err[512];
	size_t i;
	int r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(buf, sizeof(buf),
			 "{\"format_version\":2,\"lineage\":"
			 "\"3f1c9a52-6a0e-4c39-9d0b-2f4f1b7d8e21\",\"serial\":1,"
			 "\"pools\":{\"web\":{\"provider\":\"hw\"%s%s}}%s}",
			 cases[i].pool[0] ? "," : "", cases[i].pool, cases[i].top);
		doc = NULL;
		err[0] = '\0';
		r = lbr_state_parse(buf, strlen(buf), &doc, err, sizeof(err));
		tap_ok(r == LBR_ECORRUPT && !doc && strstr(err, cases[i].why),
		       "format 2 corrupt: %s", err);
		lbr_state_free(doc);
	}
}

/* ---- the vtable and the local backend's lock deadline --------------- */

static void test_backend_table(void)
{
	struct lbr_state_store *st = NULL;
	char err[512];
	int r;

	r = lbr_state_store_open("s3://bucket/x", dir, &st, err, sizeof(err));
	tap_ok(r == LBR_EINVAL && !st && strstr(err, "unsupported state location"),
	       "unknown scheme refused: %s", err);
	r = lbr_state_store_open("etcd://h:1,/p", NULL, &st, err, sizeof(err));
	tap_ok(r == LBR_EINVAL && strstr(err, "invalid etcd endpoint ''"),
	       "an empty etcd endpoint is refused: %s", err);
	r = lbr_state_store_open("etcd://127.0.0.1:0/p", NULL, &st, err, sizeof(err));
	tap_ok(r == LBR_EINVAL, "etcd port 0 refused: %s", err);
	lbr_state_store_open("etcd://127.0.0.1:2379/p", NULL, &st, err, sizeof(err));
	tap_is_str(lbr_state_store_kind(st), "etcd", "etcd spec: etcd backend");
	lbr_state_store_free(st);

	st = open_store();
	tap_is_str(lbr_state_store_kind(st), "local", "path: local backend");
	tap_ok(lbr_state_lock_valid_until_ms(st) == 0, "local: valid until 0 before locking");
	tap_is_int(lbr_state_keepalive(st, err, sizeof(err)), LBR_EINVAL,
		   "local: keepalive without the lock");
	lbr_state_lock(st, "apply", 0, NULL, err, sizeof(err));
	tap_ok(lbr_state_lock_valid_until_ms(st) == UINT64_MAX,
	       "local: valid until UINT64_MAX while the flock is held");
	tap_is_int(lbr_state_keepalive(st, err, sizeof(err)), 0, "local: keepalive while held");
	rename(sfx(".lock"), sfx(".lock.old"));
	spit(sfx(".lock"), "", 0);
	r = lbr_state_keepalive(st, err, sizeof(err));
	tap_ok(r == LBR_EFENCED && strstr(err, "replaced"),
	       "local: keepalive notices a replaced lock file: %s", err);
	unlink(sfx(".lock.old"));
	lbr_state_unlock(st);
	tap_ok(lbr_state_lock_valid_until_ms(st) == 0, "local: valid until 0 after unlock");
	tap_is_int(lbr_state_store_set_lock_ttl(st, 3601), LBR_EINVAL,
		   "lock_ttl over an hour refused");
	tap_is_int(lbr_state_store_set_lock_ttl(st, 30), 0, "lock_ttl 30");
	lbr_state_store_free(st);
}

/* ---- etcd edge cases against a scripted HTTP client ----------------- */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void b64enc(const char *s, size_t n, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16;

		if (i + 1 < n)
			v |= (unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		out[o++] = B64[v >> 18 & 63];
		out[o++] = B64[v >> 12 & 63];
		out[o++] = i + 1 < n ? B64[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? B64[v & 63] : '=';
	}
	out[o] = '\0';
}

static void b64dec(const char *s, char *out)
{
	size_t o = 0;
	unsigned v = 0;
	int bits = 0;

	for (; *s && *s != '='; s++) {
		v = v << 6 | (unsigned)(strchr(B64, *s) - B64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)(v >> bits & 255);
		}
	}
	out[o] = '\0';
}

struct fake {
	const char *mode; /* "noheader", "notjson", "garbage", "alive", "ok" */
	int down;
	int calls;
	char apis[64][32];
	int nputs;
	char put_key[16][200];
	char put_val[16][600];
};

static int fake_http(void *ud, const struct lbr_http_request *req, struct lbr_http_response *resp,
		     char *err, size_t errlen)
{
	struct fake *f = ud;
	const char *api = strstr(req->url, "/v3/");
	char *body = malloc(4096), val[600];
	json_object *rq, *v;

	api = api ? api + 4 : "";
	if (f->calls < 64)
		snprintf(f->apis[f->calls], sizeof(f->apis[0]), "%s", api);
	f->calls++;
	if (f->down) {
		snprintf(err, errlen, "connection refused");
		free(body);
		return LBR_ETRANSPORT;
	}
	resp->status = 200;
	strcpy(body, "{\"header\":{\"revision\":\"9\"}}");
	if (!strcmp(f->mode, "noheader")) {
		strcpy(body, "{}");
	} else if (!strcmp(f->mode, "notjson")) {
		strcpy(body, "<html>proxy</html>");
	} else if (!strcmp(api, "kv/put") && f->nputs < 16) {
		rq = json_tokener_parse(req->body);
		if (json_object_object_get_ex(rq, "key", &v))
			b64dec(json_object_get_string(v), f->put_key[f->nputs]);
		if (json_object_object_get_ex(rq, "value", &v))
			b64dec(json_object_get_string(v), f->put_val[f->nputs]);
		f->nputs++;
		json_object_put(rq);
	} else if (!strcmp(api, "kv/range")) {
		if (!strcmp(f->mode, "garbage"))
			b64enc("\x01not-json", 9, val);
		else
			b64enc("{\"id\":\"0b8c2d6e-1111-4222-8333-444455556666\","
			       "\"pid\":4242,\"host\":\"other\",\"operation\":\"run\"}",
			       strlen("{\"id\":\"0b8c2d6e-1111-4222-8333-444455556666\","
				      "\"pid\":4242,\"host\":\"other\",\"operation\":\"run\"}"),
			       val);
		snprintf(body, 4096,
			 "{\"header\":{},\"kvs\":[{\"key\":\"eA==\","
			 "\"value\":\"%s\",\"create_revision\":\"3\",\"lease\":"
			 "\"77\"}],\"count\":\"1\"}",
			 val);
	} else if (!strcmp(api, "lease/timetolive")) {
		strcpy(body, "{\"header\":{},\"ID\":\"77\",\"TTL\":\"9\"}");
	} else if (!strcmp(api, "kv/txn")) {
		strcpy(body, "{\"header\":{},\"succeeded\":true}");
	}
	resp->body = body;
	resp->body_len = strlen(body);
	return 0;
}

static void fake_release(void *ud, struct lbr_http_response *resp)
{
	(void)ud;
	free((void *)resp->body);
}

static int fake_saw(const struct fake *f, const char *api)
{
	int i;

	for (i = 0; i < f->calls && i < 64; i++)
		if (!strcmp(f->apis[i], api))
			return 1;
	return 0;
}

static void test_etcd_scripted(void)
{
	struct fake f = { "noheader", 0, 0, { { 0 } }, 0, { { 0 } }, { { 0 } } };
	struct lbr_state_io io = { fake_http, fake_release, &f, NULL };
	struct lbr_state_store *st = NULL, *st2 = NULL;
	struct lbr_state *doc = NULL;
	struct lbr_lock_info info;
	struct lbr_audit_rec rec = { .pool = "web",
				     .member_id = "m1",
				     .address = "10.0.0.9",
				     .port = 80,
				     .action = "remove",
				     .outcome = "ok" };
	char err[1024], spool[400], *text;
	const char *msg;
	int r;

	lbr_state_set_io(&io);
	lbr_state_store_open("etcd://127.0.0.1:1/p", NULL, &st, err, sizeof(err));

	r = lbr_state_load(st, &doc, err, sizeof(err));
	tap_ok(r == LBR_ECORRUPT && !doc && strstr(err, "not etcd's") &&
		       strstr(err, "/v3/kv/range"),
	       "an answer without etcd's header is a protocol error: %s", err);
	f.mode = "notjson";
	r = lbr_state_load(st, &doc, err, sizeof(err));
	tap_ok(r == LBR_ECORRUPT && !doc && strstr(err, "not JSON") && strstr(err, "<html>"),
	       "a non-JSON answer too: %s", err);

	f.mode = "garbage";
	r = lbr_state_lock_info(st, &info);
	msg = lbr_state_store_message(st);
	tap_ok(r == 0 && !info.id[0] && msg && strstr(msg, "\\x01not-json") &&
		       strstr(msg, "etcdctl --endpoints=http://127.0.0.1:1 del 'p/lock'"),
	       "garbage lock value shown raw with the command clearing it: %s", msg ? msg : "");
	r = lbr_state_lock(st, "apply", 0, &info, err, sizeof(err));
	tap_ok(r == LBR_ELOCKED && strstr(err, "\\x01not-json") && strstr(err, "del 'p/lock'") &&
		       !fake_saw(&f, "lease/grant"),
	       "lock: garbage holder shown raw, no lease granted: %s", err);
	r = lbr_state_force_unlock(st, "0b8c2d6e-1111-4222-8333-444455556666", 1, err, sizeof(err));
	tap_ok(r == LBR_ECORRUPT && strstr(err, "del 'p/lock'"),
	       "force_unlock of a garbage lock names the command: %s", err);

	f.mode = "alive";
	f.calls = 0;
	r = lbr_state_force_unlock(st, "0b8c2d6e-1111-4222-8333-444455556666", 0, err, sizeof(err));
	tap_ok(r == LBR_ELOCKED && strstr(err, "pid 4242 on other") && strstr(err, "9s left") &&
		       !fake_saw(&f, "kv/txn"),
	       "a live lease is not broken without force: %s", err);
	f.calls = 0;
	r = lbr_state_force_unlock(st, "0b8c2d6e-1111-4222-8333-444455556666", 1, err, sizeof(err));
	tap_ok(r == 0 && fake_saw(&f, "kv/txn") && fake_saw(&f, "lease/revoke"),
	       "with force it is deleted and its lease revoked");

	/* Audit spool: lines etcd does not take are kept and replayed in
	 * order under their original keys. */
	f.mode = "ok";
	snprintf(spool, sizeof(spool), "%s/audit.spool", dir);
	unlink(spool);
	f.down = 1;
	r = lbr_state_audit(st, &rec);
	msg = lbr_state_store_message(st);
	tap_ok(r < 0 && msg && strstr(msg, "connection refused") && strstr(msg, "lost") &&
		       strstr(msg, "m1"),
	       "without a spool a line etcd refuses is lost, and said so: %s", msg ? msg : "");
	tap_is_int(lbr_state_store_set_audit_spool(st, spool), 0, "set spool");
	r = lbr_state_audit(st, &rec);
	msg = lbr_state_store_message(st);
	tap_ok(r == 1 && msg && strstr(msg, spool) && strstr(msg, "m1") &&
		       strstr(msg, "10.0.0.9:80"),
	       "etcd down: line spooled: %s", msg ? msg : "");
	rec.member_id = "m2";
	f.calls = 0;
	r = lbr_state_audit(st, &rec);
	tap_ok(r == 1 && f.calls == 1, "second line spooled after one try");
	text = slurp(spool, NULL);
	tap_ok(text && strstr(text, "\"member\":\"m1\"") && strstr(text, "\"member\":\"m2\"") &&
		       strstr(text, "\"member\":\"m1\"") < strstr(text, "\"member\":\"m2\"") &&
		       mode_of(spool) == 0600,
	       "spool holds both lines in order, mode 0600");
	free(text);
	f.down = 0;
	rec.member_id = "m3";
	r = lbr_state_audit(st, &rec);
	tap_ok(r == 0 && f.nputs == 3 && strstr(f.put_val[0], "\"m1\"") &&
		       strstr(f.put_val[1], "\"m2\"") && strstr(f.put_val[2], "\"m3\"") &&
		       strncmp(f.put_key[0], "p/audit/", 8) == 0 &&
		       strcmp(f.put_key[0], f.put_key[1]) < 0 &&
		       strcmp(f.put_key[1], f.put_key[2]) < 0,
	       "etcd back: spool replayed in order before the new line");
	tap_ok(access(spool, F_OK) != 0, "replayed spool removed");

	/* A spool left by an earlier run is replayed by the next one. */
	f.down = 1;
	rec.member_id = "m4";
	lbr_state_audit(st, &rec);
	lbr_state_store_free(st);
	st = NULL;
	f.down = 0;
	f.nputs = 0;
	lbr_state_store_open("etcd://127.0.0.1:1/p", NULL, &st2, err, sizeof(err));
	lbr_state_store_set_audit_spool(st2, spool);
	r = lbr_state_audit_flush(st2);
	tap_ok(r == 0 && f.nputs == 1 && strstr(f.put_val[0], "\"m4\"") && access(spool, F_OK) != 0,
	       "the next run replays the old spool");
	lbr_state_store_free(st2);
	lbr_state_set_io(NULL);
	lbr_state_store_open("etcd://127.0.0.1:1/p", NULL, &st, err, sizeof(err));
	r = lbr_state_load(st, &doc, err, sizeof(err));
	tap_ok(r == LBR_EIO && strstr(err, "no HTTP client"),
	       "without an HTTP client etcd is not reachable: %s", err);
	lbr_state_store_free(st);
}

static void rm_rf(void)
{
	const char *s[] = { "", ".backup", ".lock", ".log", ".tmp", ".backup.tmp" };
	size_t i;

	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		unlink(sfx(s[i]));
	if (strlen(dir) > 10) {
		char cmd[400];

		/* Our own mkdtemp directory (etcd's data lives there too). */
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/test-state.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 99;
	}
	snprintf(path, sizeof(path), "%s/s.json", dir);

	test_open();
	test_roundtrip();
	test_writer_matches_jsonc();
	test_streamed_write();
	test_foreign();
	test_corrupt();
	test_parse_mutations();
	test_fixtures();
	test_backup_fallback();
	test_lock();
	test_audit();
	test_free_at_exit();
	test_audit_lines();
	test_crash_loop();
	test_format2();
	test_format2_corrupt();
	test_backend_table();
	test_etcd_scripted();
	test_etcd();
	rm_rf();
	return tap_done();
}

/*
 * libcurl loaded at run time (agent/curl-load.c).  Built twice: against
 * the real library, where a load started in the background is waited for
 * by several threads at once and every entry point works; and with
 * LBR_CURL_SONAME naming a library that does not exist, where every wait
 * gives the same precise error and nothing is called; and (TEST_STUB)
 * with a stand-in (curlstub.c) that records the environment it is loaded
 * in, where GnuTLS would see GNUTLS_NO_IMPLICIT_INIT=1.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/curl-load.h"
#include "tap.h"

#define WAITERS 8

static int results[WAITERS];
static char errs[WAITERS][300];

static void *waiter(void *arg)
{
	size_t i = (size_t)arg;

	results[i] = lbr_curl_wait(errs[i], sizeof(errs[i]));
	return NULL;
}

/* Start the load, then have WAITERS threads wait for it at once. */
static void wait_from_threads(void)
{
	pthread_t th[WAITERS];
	int started[WAITERS];
	size_t i;

	lbr_curl_load_start();
	lbr_curl_load_start(); /* a second start does nothing */
	for (i = 0; i < WAITERS; i++) {
		results[i] = -2; /* never waited: fails the checks */
		started[i] = pthread_create(&th[i], NULL, waiter, (void *)i) == 0;
	}
	for (i = 0; i < WAITERS; i++)
		if (started[i])
			pthread_join(th[i], NULL);
}

#if !defined(TEST_MISSING) && !defined(TEST_STUB)

int main(void)
{
	char err[300] = "", *e;
	CURLU *u;
	char *host = NULL;
	size_t i;
	int same = 1;

	unsetenv("GNUTLS_NO_IMPLICIT_INIT");
	wait_from_threads();
	for (i = 0; i < WAITERS; i++)
		same &= results[i] == 0;
	tap_ok(same, "%d threads waiting at once all see libcurl ready", WAITERS);
	tap_ok(lbr_curl_wait(err, sizeof(err)) == 0 && err[0] == '\0',
	       "a later wait returns at once, with no message");
	/* Set for the load only (GnuTLS skips its implicit init), removed
	 * by the thread that started the load when it waits. */
	tap_ok(getenv("GNUTLS_NO_IMPLICIT_INIT") == NULL,
	       "the environment is as it was once the starting thread waited");
	tap_ok(lbr_curl.version_info(CURLVERSION_NOW)->version_num >= 0x074400,
	       "the library loaded is 7.68 or later (%s)",
	       lbr_curl.version_info(CURLVERSION_NOW)->version);
	e = lbr_curl.easy_escape(NULL, "a b/c", 5);
	tap_is_str(e, "a%20b%2Fc", "curl_easy_escape through the table");
	lbr_curl.free(e);
	u = lbr_curl.url();
	tap_ok(u &&
		       lbr_curl.url_set(u, CURLUPART_URL, "https://elb.example.com:8443/v3/x", 0) ==
			       CURLUE_OK &&
		       lbr_curl.url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK,
	       "the URL API through the table");
	tap_is_str(host, "elb.example.com", "... host parsed");
	lbr_curl.free(host);
	lbr_curl.url_cleanup(u);
	lbr_curl_unload();
	tap_ok(lbr_curl_wait(err, sizeof(err)) < 0, "after unload, a wait fails");
	tap_is_str(err, "libcurl was shut down", "... and says why");
	return tap_done();
}

#elif defined(TEST_STUB)

/* What the stand-in saw while it was loaded ("" if it wrote nothing). */
static void read_seen(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	char out[4096], seen[64];
	int fd;
	size_t i;
	int same = 1;

	snprintf(out, sizeof(out), "%s/test-curl-load-stub.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	fd = mkstemp(out);
	if (fd < 0) {
		perror("mkstemp");
		return 1;
	}
	close(fd);
	unsetenv("GNUTLS_NO_IMPLICIT_INIT");
	setenv("LBR_CURL_STUB_OUT", out, 1);
	wait_from_threads();
	read_seen(out, seen, sizeof(seen));
	unlink(out);
	tap_is_str(seen, "1",
		   "while libcurl loads, GNUTLS_NO_IMPLICIT_INIT is 1 (GnuTLS skips its init)");
	/* The thread that started the load waits last here: the variable is
	 * removed when it does. */
	tap_ok(lbr_curl_wait(NULL, 0) < 0, "the stand-in is not a usable libcurl");
	tap_ok(getenv("GNUTLS_NO_IMPLICIT_INIT") == NULL,
	       "the thread that started the load removes the variable when it waits");
	for (i = 0; i < WAITERS; i++)
		same &= results[i] == -1 && strstr(errs[i], "has no curl_global_init") != NULL;
	tap_ok(same, "every waiter is told which function is missing: %s", errs[0]);
	return tap_done();
}

#else

int main(void)
{
	char err[300] = "";
	size_t i;
	int same = 1;

	/* What the environment says about GnuTLS is left as it is. */
	setenv("GNUTLS_NO_IMPLICIT_INIT", "0", 1);
	wait_from_threads();
	tap_is_str(getenv("GNUTLS_NO_IMPLICIT_INIT"), "0",
		   "a GNUTLS_NO_IMPLICIT_INIT set by the caller is kept");
	for (i = 0; i < WAITERS; i++)
		same &= results[i] == -1 && strcmp(errs[i], errs[0]) == 0;
	tap_ok(same, "%d threads waiting at once all get the same failure", WAITERS);
	tap_ok(strncmp(errs[0], "cannot load libcurl (" LBR_CURL_SONAME ": ",
		       strlen("cannot load libcurl (" LBR_CURL_SONAME ": ")) == 0,
	       "the message names the library and dlopen's reason: %s", errs[0]);
	tap_ok(lbr_curl_wait(err, sizeof(err)) < 0 && strcmp(err, errs[0]) == 0,
	       "a later wait gives the same answer");
	tap_ok(lbr_curl_wait(NULL, 0) < 0, "a wait without a buffer fails too");
	tap_ok(lbr_curl.easy_init == NULL, "no function was filled in");
	lbr_curl_unload(); /* nothing to clean up; must not crash */
	return tap_done();
}

#endif

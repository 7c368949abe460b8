/*
 * libcurl, loaded at run time on a thread of its own (see curl-load.h).
 */
#include "config.h"

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/curl-load.h"

/* The library's file name; the tests build this file with another. */
#ifndef LBR_CURL_SONAME
#define LBR_CURL_SONAME LIBCURL_SONAME
#endif

/* The oldest libcurl at run time: what configure asks for, or 7.85 when
 * built against headers that have CURLOPT_PROTOCOLS_STR (http.c uses it
 * then, and an older library would ignore the restriction). */
#if LIBCURL_VERSION_NUM >= 0x075500
#define OLDEST_VERSION 0x075500
#define OLDEST_TEXT "7.85.0"
#else
#define OLDEST_VERSION 0x074400
#define OLDEST_TEXT "7.68.0"
#endif

struct lbr_curl_api lbr_curl;

enum { NOT_STARTED, LOADING, DONE };

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_t loader;
static int phase = NOT_STARTED; /* under mu */
static int status = -1;         /* of the load, once phase is DONE */
static int initialised;         /* curl_global_init() succeeded */
static char why[300];
static atomic_int ready; /* phase DONE and status 0: no lock needed */

/* GnuTLS, which Debian's libcurl pulls in through librtmp for rtmps://
 * (never used: calls are restricted to http and https), initialises
 * itself when it is loaded unless GNUTLS_NO_IMPLICIT_INIT is set: 1 ms of
 * the 10 ms the load takes.  A libcurl built on GnuTLS initialises it
 * explicitly in curl_global_init().  Set only for a load on the thread
 * of its own, and only when the environment does not say otherwise.  The
 * environment is changed only by the thread that starts the load (before
 * the loading thread exists) and, once it waits for the load, by that
 * same thread (in the agent: the one that reads the configuration, while
 * no other thread reads the environment); a load finished while another
 * thread waited leaves the variable set until then. */
#define NO_IMPLICIT "GNUTLS_NO_IMPLICIT_INIT"
static atomic_int env_set;  /* set by us, not yet unset */
static pthread_t env_owner; /* who set it */

static void env_begin(void)
{
	if (!getenv(NO_IMPLICIT) && setenv(NO_IMPLICIT, "1", 0) == 0) {
		env_owner = pthread_self();
		atomic_store_explicit(&env_set, 1, memory_order_relaxed);
	}
}

/* Under mu, once the load is over. */
static void env_end(void)
{
	if (atomic_load_explicit(&env_set, memory_order_relaxed) &&
	    pthread_equal(env_owner, pthread_self())) {
		unsetenv(NO_IMPLICIT);
		atomic_store_explicit(&env_set, 0, memory_order_relaxed);
	}
}

/* dlsym into a function pointer, the POSIX way. */
#define SYM(field, name)                                                                      \
	do {                                                                                  \
		*(void **)(&api.field) = dlsym(h, name);                                      \
		if (!api.field) {                                                             \
			snprintf(why, sizeof(why), "libcurl (%s) has no %s", LBR_CURL_SONAME, \
				 name);                                                       \
			goto fail;                                                            \
		}                                                                             \
	} while (0)

/* curl_global_init() is safe on a thread of its own while other threads
 * run only in a libcurl that says so (7.84 and later). */
#ifndef CURL_VERSION_THREADSAFE
#define CURL_VERSION_THREADSAFE (1 << 30)
#endif

static struct lbr_curl_api loaded; /* filled by load(), under mu after */
static int init_deferred;          /* load() left curl_global_init() to the waiter */

static int global_init(void)
{
	if (loaded.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(why, sizeof(why), "cannot initialise libcurl");
		return -1;
	}
	initialised = 1;
	lbr_curl = loaded;
	return 0;
}

/* Load the library and its functions; initialise it too unless that is
 * not safe here (on_thread and an old libcurl: the waiter does it). */
static int load(int on_thread)
{
	struct lbr_curl_api api;
	curl_version_info_data *v;
	void *h;

	memset(&api, 0, sizeof(api));
	h = dlopen(LBR_CURL_SONAME, RTLD_LAZY | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();

		snprintf(why, sizeof(why), "cannot load libcurl (%s)", e ? e : LBR_CURL_SONAME);
		return -1;
	}
	SYM(global_init, "curl_global_init");
	SYM(global_cleanup, "curl_global_cleanup");
	SYM(version_info, "curl_version_info");
	SYM(easy_init, "curl_easy_init");
	SYM(easy_cleanup, "curl_easy_cleanup");
	SYM(easy_reset, "curl_easy_reset");
	SYM(easy_setopt, "curl_easy_setopt");
	SYM(easy_perform, "curl_easy_perform");
	SYM(easy_getinfo, "curl_easy_getinfo");
	SYM(easy_strerror, "curl_easy_strerror");
	SYM(easy_escape, "curl_easy_escape");
	SYM(easy_unescape, "curl_easy_unescape");
	SYM(free, "curl_free");
	SYM(getdate, "curl_getdate");
	SYM(slist_append, "curl_slist_append");
	SYM(slist_free_all, "curl_slist_free_all");
	SYM(url, "curl_url");
	SYM(url_set, "curl_url_set");
	SYM(url_get, "curl_url_get");
	SYM(url_cleanup, "curl_url_cleanup");
	SYM(multi_init, "curl_multi_init");
	SYM(multi_cleanup, "curl_multi_cleanup");
	SYM(multi_setopt, "curl_multi_setopt");
	SYM(multi_add_handle, "curl_multi_add_handle");
	SYM(multi_remove_handle, "curl_multi_remove_handle");
	SYM(multi_socket_action, "curl_multi_socket_action");
	SYM(multi_info_read, "curl_multi_info_read");
	v = api.version_info(CURLVERSION_NOW);
	if (!v || v->version_num < OLDEST_VERSION) {
		snprintf(why, sizeof(why),
			 "libcurl %s is too old (" OLDEST_TEXT " or later needed)",
			 v && v->version ? v->version : "?");
		goto fail;
	}
	loaded = api;
	if (on_thread && !(v->features & CURL_VERSION_THREADSAFE)) {
		init_deferred = 1;
		return 0;
	}
	if (global_init() < 0)
		goto fail;
	return 0;
fail:
	dlclose(h);
	return -1;
}

static void *loader_main(void *unused)
{
	(void)unused;
	status = load(1);
	return NULL;
}

void lbr_curl_load_start(void)
{
	sigset_t all, old;

	pthread_mutex_lock(&mu);
	if (phase == NOT_STARTED) {
		/* Signals stay with the threads that handle them. */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		env_begin();
		if (pthread_create(&loader, NULL, loader_main, NULL) == 0)
			phase = LOADING;
		else
			env_end(); /* ours, and nobody else has seen it */
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		/* No thread: lbr_curl_wait() loads in its caller. */
	}
	pthread_mutex_unlock(&mu);
}

int lbr_curl_wait(char *err, size_t errlen)
{
	int r;

	if (atomic_load_explicit(&ready, memory_order_acquire) &&
	    !atomic_load_explicit(&env_set, memory_order_relaxed))
		return 0;
	pthread_mutex_lock(&mu);
	if (phase == NOT_STARTED) {
		status = load(0);
		phase = DONE;
	} else if (phase == LOADING) {
		pthread_join(loader, NULL);
		phase = DONE;
	}
	env_end();
	if (status == 0 && init_deferred) {
		init_deferred = 0;
		status = global_init();
	}
	r = status;
	if (r == 0)
		atomic_store_explicit(&ready, 1, memory_order_release);
	else if (err && errlen)
		snprintf(err, errlen, "%s", why);
	pthread_mutex_unlock(&mu);
	return r;
}

void lbr_curl_unload(void)
{
	pthread_mutex_lock(&mu);
	if (phase == LOADING) {
		pthread_join(loader, NULL);
		env_end();
		phase = DONE;
	}
	if (initialised) {
		atomic_store_explicit(&ready, 0, memory_order_release);
		lbr_curl.global_cleanup();
		initialised = 0;
		status = -1;
		snprintf(why, sizeof(why), "libcurl was shut down");
	}
	pthread_mutex_unlock(&mu);
}

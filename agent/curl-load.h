/*
 * libcurl, loaded at run time.
 *
 * libcurl pulls in some thirty libraries (TLS, HTTP/2, Kerberos, LDAP,
 * SSH, IDN...).  Linked in, the dynamic loader maps and relocates them all
 * before main() runs: about 8 ms on a small VM, plus 2 ms for
 * curl_global_init().  Loaded with dlopen() on a thread of its own, that
 * work overlaps reading the configuration and taking the lock, and
 * commands that make no call (validate, version, providers, help) never
 * pay it.
 *
 * Only agent/http.c and agent/sched.c call libcurl, through lbr_curl, and
 * only after lbr_curl_wait() returned 0.
 */
#ifndef LBR_CURL_LOAD_H
#define LBR_CURL_LOAD_H

#include <stddef.h>
#include <time.h>

#include <curl/curl.h>

struct lbr_curl_api {
	CURLcode (*global_init)(long flags);
	void (*global_cleanup)(void);
	curl_version_info_data *(*version_info)(CURLversion v);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *h);
	void (*easy_reset)(CURL *h);
	CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *h);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	const char *(*easy_strerror)(CURLcode c);
	char *(*easy_escape)(CURL *h, const char *s, int len);
	char *(*easy_unescape)(CURL *h, const char *s, int len, int *outlen);
	void (*free)(void *p);
	time_t (*getdate)(const char *s, const time_t *unused);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
	CURLU *(*url)(void);
	CURLUcode (*url_set)(CURLU *u, CURLUPart what, const char *part, unsigned int flags);
	CURLUcode (*url_get)(const CURLU *u, CURLUPart what, char **part, unsigned int flags);
	void (*url_cleanup)(CURLU *u);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_cleanup)(CURLM *m);
	CURLMcode (*multi_setopt)(CURLM *m, CURLMoption opt, ...);
	CURLMcode (*multi_add_handle)(CURLM *m, CURL *h);
	CURLMcode (*multi_remove_handle)(CURLM *m, CURL *h);
	CURLMcode (*multi_socket_action)(CURLM *m, curl_socket_t s, int mask, int *running);
	CURLMsg *(*multi_info_read)(CURLM *m, int *left);
};

/* Filled in by the load; read only after lbr_curl_wait() returned 0. */
extern struct lbr_curl_api lbr_curl;

/* Start loading and initialising libcurl on a thread of its own (once;
 * later calls do nothing).  Call before any other thread starts. */
void lbr_curl_load_start(void);

/* Wait for the load (or do it here when it was never started).  0 when
 * libcurl is ready; otherwise -1 and why in err, the same answer every
 * time.  Thread-safe. */
int lbr_curl_wait(char *err, size_t errlen);

/* Wait for a load in progress, then curl_global_cleanup() if libcurl was
 * initialised.  The library stays mapped (unloading TLS libraries at exit
 * is not worth its risks). */
void lbr_curl_unload(void);

#endif

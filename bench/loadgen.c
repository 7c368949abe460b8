/* loadgen - closed-loop HTTP load on one URL with libcurl multi.
 *
 *   loadgen -c CONNECTIONS -d SECONDS [-H HEADER]... URL
 *
 * Keeps CONNECTIONS requests in flight over as many keep-alive
 * connections for SECONDS and prints
 *   requests=N ok=N errors=N seconds=S rps=R
 * where ok counts HTTP 200 answers.  One thread: on a small machine the
 * fake cloud needs the other core more than the client does.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>

static size_t sink(char *p, size_t sz, size_t n, void *u)
{
	(void)p;
	(void)u;
	return sz * n;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct curl_slist *hdrs = NULL;
	CURL **easy = NULL;
	CURLM *multi = NULL;
	long conns = 16;
	double secs = 5, t0, t1;
	unsigned long reqs = 0, ok = 0, errs = 0;
	const char *url;
	int opt, i, running, rc = 1;

	while ((opt = getopt(argc, argv, "c:d:H:")) != -1) {
		switch (opt) {
		case 'c': conns = strtol(optarg, NULL, 10); break;
		case 'd': secs = strtod(optarg, NULL); break;
		case 'H': hdrs = curl_slist_append(hdrs, optarg); break;
		default: goto usage;
		}
	}
	if (optind != argc - 1 || conns < 1 || conns > 1000 || secs <= 0)
		goto usage;
	url = argv[optind];
	curl_global_init(CURL_GLOBAL_DEFAULT);
	multi = curl_multi_init();
	easy = calloc((size_t)conns, sizeof(*easy));
	if (!multi || !easy)
		goto out;
	curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, conns);
	curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, conns);
	for (i = 0; i < conns; i++) {
		easy[i] = curl_easy_init();
		if (!easy[i])
			goto out;
		curl_easy_setopt(easy[i], CURLOPT_URL, url);
		curl_easy_setopt(easy[i], CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(easy[i], CURLOPT_WRITEFUNCTION, sink);
		curl_easy_setopt(easy[i], CURLOPT_NOSIGNAL, 1L);
		curl_multi_add_handle(multi, easy[i]);
	}
	t0 = now_s();
	t1 = t0;
	do {
		CURLMsg *m;
		int left;

		curl_multi_perform(multi, &running);
		while ((m = curl_multi_info_read(multi, &left))) {
			long code = 0;

			if (m->msg != CURLMSG_DONE)
				continue;
			reqs++;
			curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
			if (m->data.result == CURLE_OK && code == 200)
				ok++;
			else
				errs++;
			curl_multi_remove_handle(multi, m->easy_handle);
			/* Closed loop: the handle goes straight back in while
			 * the run lasts, reusing its cached connection. */
			if (now_s() - t0 < secs)
				curl_multi_add_handle(multi, m->easy_handle);
		}
		t1 = now_s();
		if (running)
			curl_multi_poll(multi, NULL, 0, 100, NULL);
	} while (running || t1 - t0 < secs);
	t1 = now_s();
	printf("requests=%lu ok=%lu errors=%lu seconds=%.3f rps=%.0f\n", reqs, ok, errs, t1 - t0,
	       (double)ok / (t1 - t0));
	rc = errs ? 1 : 0;
	goto out;
usage:
	fprintf(stderr, "usage: loadgen -c CONNECTIONS -d SECONDS [-H HEADER]... URL\n");
	rc = 2;
out:
	for (i = 0; easy && i < conns; i++) {
		if (easy[i]) {
			curl_multi_remove_handle(multi, easy[i]);
			curl_easy_cleanup(easy[i]);
		}
	}
	free(easy);
	if (multi)
		curl_multi_cleanup(multi);
	curl_slist_free_all(hdrs);
	return rc;
}

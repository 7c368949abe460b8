/*
 * Stands in for libcurl in test-curl-load-stub: it exports none of
 * libcurl's functions (so the load fails, naming the first one missing)
 * and, when it is loaded, writes what GNUTLS_NO_IMPLICIT_INIT says at
 * that moment to the file named by LBR_CURL_STUB_OUT ("(unset)" when it
 * is not set): what GnuTLS would see when libcurl pulls it in.
 */
#include <stdio.h>
#include <stdlib.h>

__attribute__((constructor)) static void record_environment(void)
{
	const char *out = getenv("LBR_CURL_STUB_OUT"), *v = getenv("GNUTLS_NO_IMPLICIT_INIT");
	FILE *f;

	if (!out)
		return;
	f = fopen(out, "w");
	if (!f)
		return;
	fputs(v ? v : "(unset)", f);
	fclose(f);
}

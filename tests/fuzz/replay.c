/*
 * Replay driver: runs LLVMFuzzerTestOneInput() over corpus files with the
 * normal compiler, so that `make check` re-checks every committed corpus
 * input (and every fixed crash) without clang or libFuzzer.
 *
 * Usage: replay-TARGET PATH...   (a PATH is a file or a directory whose
 * regular files are all replayed, in name order).  Exit 0 when every
 * input ran; a crash or abort() in the target ends the process.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path, size_t *count)
{
	FILE *f = NULL;
	struct stat st;
	uint8_t *buf = NULL;
	int r = -1;

	f = fopen(path, "rb");
	if (!f || fstat(fileno(f), &st) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		goto out;
	}
	/* Exactly sized (at least one byte for malloc), as libFuzzer does,
	 * so an over-read in the target is not hidden by slack. */
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		fprintf(stderr, "replay: %s: out of memory\n", path);
		goto out;
	}
	if (st.st_size && fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		fprintf(stderr, "replay: %s: short read\n", path);
		goto out;
	}
	fprintf(stderr, "replay: %s (%lld bytes)\n", path, (long long)st.st_size);
	LLVMFuzzerTestOneInput(buf, (size_t)st.st_size);
	(*count)++;
	r = 0;
out:
	free(buf);
	if (f)
		fclose(f);
	return r;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int replay_path(const char *path, size_t *count)
{
	struct dirent **ents = NULL;
	struct stat st;
	int n, i, r = 0;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path, count);
	n = scandir(path, &ents, NULL, by_name);
	if (n < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		char *full = NULL;

		if (ents[i]->d_name[0] == '.')
			goto next;
		if (asprintf(&full, "%s/%s", path, ents[i]->d_name) < 0) {
			full = NULL;
			r = -1;
			goto next;
		}
		if (stat(full, &st) == 0 && S_ISREG(st.st_mode) &&
		    replay_file(full, count) < 0)
			r = -1;
next:
		free(full);
		free(ents[i]);
	}
	free(ents);
	return r;
}

int main(int argc, char **argv)
{
	size_t count = 0;
	int i, r = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++)
		if (replay_path(argv[i], &count) < 0)
			r = 1;
	fprintf(stderr, "replay: %zu inputs\n", count);
	/* An empty corpus means a broken checkout, not a pass. */
	if (!count)
		r = 1;
	return r;
}

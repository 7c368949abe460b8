/*
 * Fuzz target: the state document parser.
 *
 * lbr_state_parse() reads a document that anyone with write access to the
 * state file (or the etcd key) controls.  An accepted document must
 * survive a round trip: lbr_state_to_json() of it must parse again, and
 * serialising that second document must give the same text, otherwise a
 * save/load cycle would silently change the state.  Format 2 records
 * (ownership, counters) keep their invariants.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "state/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lbr_state *doc = NULL, *again = NULL;
	char err[512], *json = NULL, *json2 = NULL, *one = NULL;
	size_t i;
	int r;

	err[0] = '\0';
	r = lbr_state_parse((const char *)data, size, &doc, err, sizeof(err));
	if (strnlen(err, sizeof(err)) >= sizeof(err))
		abort();
	if (r < 0) {
		if (doc)
			abort(); /* nothing is handed out on failure */
		goto out;
	}
	if (!doc)
		abort();
	json = lbr_state_to_json(doc, NULL);
	if (!json)
		goto out; /* out of memory */
	err[0] = '\0';
	r = lbr_state_parse(json, strlen(json), &again, err, sizeof(err));
	if (r < 0)
		abort(); /* our own output was refused: see err */
	json2 = lbr_state_to_json(again, NULL);
	if (json2 && strcmp(json, json2) != 0)
		abort(); /* the round trip changed the document */
	/* `state show POOL` path. */
	if (doc->n_pools && doc->pools[0].name)
		one = lbr_state_to_json(doc, doc->pools[0].name);
	(void)lbr_state_pool_find(doc, "web");
	/* Format 2: an accepted ownership record is canonical, sorted and
	 * without duplicates, so lbr_state_pool_owns() finds every entry of
	 * it; counters stay below the saturation bound. */
	for (i = 0; i < doc->n_pools; i++) {
		const struct lbr_state_pool *p = &doc->pools[i];
		size_t k;

		for (k = 0; k < p->n_owned; k++)
			if (k && strcmp(p->owned[k - 1], p->owned[k]) >= 0)
				abort();
		for (k = 0; k < p->n_members; k++)
			(void)lbr_state_pool_owns(p, p->members[k].address,
						  p->members[k].port);
	}
	for (i = 0; i < doc->n_counters; i++)
		if (doc->counters[i].value >= (uint64_t)INT64_MAX ||
		    lbr_state_counter_get(doc, doc->counters[i].name) !=
		    doc->counters[i].value)
			abort();
out:
	free(one);
	free(json2);
	free(json);
	lbr_state_free(again);
	lbr_state_free(doc);
	return 0;
}

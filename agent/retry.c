#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent/exec.h"
#include "agent/retry.h"
#include "agent/util.h"

const struct lbr_retry_policy lbr_retry_default = {
	.base_ms = 200,
	.cap_ms = 10000,
	.max_attempts = 6,
	.max_conflicts = 3,
	.max_throttled = 40,
	.throttle_cap_ms = 1000,
	.max_wait_ms = 60000,
	.deadline_ms = 120000,
};

static uint64_t real_now(void *ud)
{
	(void)ud;
	return lbr_mono_ms();
}

static int real_sleep(void *ud, uint64_t ms)
{
	volatile int *stop = ud;

	return lbr_exec_sleep_ms(ms, stop);
}

static double real_rand(void *ud)
{
	(void)ud;
	return lbr_random();
}

const struct lbr_clock lbr_clock_real = {
	.now_ms = real_now,
	.sleep_ms = real_sleep,
	.rand = real_rand,
	.ud = NULL,
};

int lbr_retry_retryable(enum lbr_outcome o)
{
	return o == LBR_OUT_TRANSIENT || o == LBR_OUT_THROTTLED || o == LBR_OUT_CONFLICT;
}

uint64_t lbr_retry_backoff(const struct lbr_retry_policy *p, unsigned attempt, double rnd)
{
	uint64_t ceil = p->base_ms;
	unsigned i;

	for (i = 1; i < attempt && ceil < p->cap_ms; i++)
		ceil *= 2;
	if (ceil > p->cap_ms)
		ceil = p->cap_ms;
	if (rnd < 0)
		rnd = 0;
	if (rnd >= 1)
		rnd = 0.999999;
	return (uint64_t)((double)(ceil + 1) * rnd);
}

enum lbr_retry_verdict lbr_retry_decide(const struct lbr_retry_policy *p,
					const struct lbr_call_result *res, unsigned attempts,
					unsigned conflicts, unsigned throttled, uint64_t elapsed_ms,
					double rnd, uint64_t *wait_ms, char *why, size_t whylen)
{
	uint64_t w;

	if (why && whylen)
		why[0] = '\0';
	if (!lbr_retry_retryable(res->outcome))
		return LBR_RETRY_DONE;
	if (res->outcome == LBR_OUT_CONFLICT && conflicts >= p->max_conflicts) {
		if (why)
			snprintf(why, whylen, "still conflicting after %u attempts", conflicts);
		return LBR_RETRY_GIVE_UP;
	}
	if (res->outcome == LBR_OUT_THROTTLED && throttled >= p->max_throttled) {
		if (why)
			snprintf(why, whylen, "still throttled after %u attempts", throttled);
		return LBR_RETRY_GIVE_UP;
	}
	if (attempts - throttled >= p->max_attempts) {
		if (why)
			snprintf(why, whylen, "gave up after %u attempts", attempts);
		return LBR_RETRY_GIVE_UP;
	}
	if (res->retry_after_ms > p->max_wait_ms) {
		if (why)
			snprintf(why, whylen,
				 "the cloud asked to retry after %u s; not waiting that long",
				 res->retry_after_ms / 1000u);
		return LBR_RETRY_GIVE_UP;
	}
	if (res->outcome == LBR_OUT_THROTTLED) {
		/* The provider's pacing does the slowing down; a throttled
		 * call only needs to go back in the queue. */
		struct lbr_retry_policy q = *p;

		if (q.cap_ms > q.throttle_cap_ms)
			q.cap_ms = q.throttle_cap_ms;
		w = lbr_retry_backoff(&q, throttled, rnd);
	} else {
		w = lbr_retry_backoff(p, attempts - throttled, rnd);
	}
	if (res->retry_after_ms > w)
		w = res->retry_after_ms;
	if (elapsed_ms + w > p->deadline_ms) {
		if (why)
			snprintf(why, whylen, "gave up after %u attempts: deadline of %u s reached",
				 attempts, p->deadline_ms / 1000u);
		return LBR_RETRY_GIVE_UP;
	}
	*wait_ms = w;
	return LBR_RETRY_AGAIN;
}

int lbr_retry_run(const struct lbr_retry_policy *p, const struct lbr_clock *clk,
		  const struct lbr_retry_hooks *h, struct lbr_call_result *res)
{
	uint64_t start = clk->now_ms(clk->ud);
	unsigned attempts = 0, conflicts = 0, throttled = 0;

	for (;;) {
		uint64_t wait = 0;
		char why[160];
		enum lbr_retry_verdict v;

		memset(res, 0, sizeof(*res));
		if (h->stop && h->stop(h->ud, res))
			return (int)attempts;
		if (h->attempt(h->ud, res) < 0)
			return -1;
		attempts++;
		if (res->outcome == LBR_OUT_CONFLICT)
			conflicts++;
		if (res->outcome == LBR_OUT_THROTTLED)
			throttled++;
		v = lbr_retry_decide(p, res, attempts, conflicts, throttled,
				     clk->now_ms(clk->ud) - start, clk->rand(clk->ud), &wait, why,
				     sizeof(why));
		if (v == LBR_RETRY_DONE)
			return (int)attempts;
		if (v == LBR_RETRY_GIVE_UP) {
			size_t n = strlen(res->message);

			snprintf(res->message + n, sizeof(res->message) - n, "%s%s", n ? "; " : "",
				 why);
			return (int)attempts;
		}
		if (h->on_retry)
			h->on_retry(h->ud, res, attempts, wait);
		if (clk->sleep_ms(clk->ud, wait)) {
			size_t n = strlen(res->message);

			snprintf(res->message + n, sizeof(res->message) - n, "%sinterrupted",
				 n ? "; " : "");
			return (int)attempts;
		}
	}
}

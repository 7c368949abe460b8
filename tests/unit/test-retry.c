/*
 * The retry policy with a fake clock: backoff growth, full jitter, cap,
 * Retry-After, bounded conflicts, attempt budget, deadline, the stop hook.
 */
#include "config.h"

#include <string.h>

#include "agent/retry.h"
#include "tests/unit/tap.h"

struct fake {
	uint64_t now;
	uint64_t slept[32];
	int n_sleeps;
	double rnd;
	/* scripted outcomes */
	enum lbr_outcome outcomes[32];
	uint32_t retry_after[32];
	int n_out, next;
	int stop_after; /* stop hook fires before attempt N (1-based), 0 never */
	int attempts;
};

static uint64_t f_now(void *ud)
{
	return ((struct fake *)ud)->now;
}

static int f_sleep(void *ud, uint64_t ms)
{
	struct fake *f = ud;

	if (f->n_sleeps < 32)
		f->slept[f->n_sleeps++] = ms;
	f->now += ms;
	return 0;
}

static double f_rand(void *ud)
{
	return ((struct fake *)ud)->rnd;
}

static int f_attempt(void *ud, struct lbr_call_result *res)
{
	struct fake *f = ud;
	int i = f->next < f->n_out ? f->next : f->n_out - 1;

	f->next++;
	f->attempts++;
	f->now += 10; /* each call takes 10 ms */
	res->outcome = f->outcomes[i];
	res->retry_after_ms = f->retry_after[i];
	snprintf(res->message, sizeof(res->message), "attempt %d", f->next);
	return 0;
}

static int f_stop(void *ud, struct lbr_call_result *res)
{
	struct fake *f = ud;

	if (f->stop_after && f->attempts + 1 >= f->stop_after) {
		res->outcome = LBR_OUT_AUTH;
		snprintf(res->message, sizeof(res->message), "stopped");
		return 1;
	}
	return 0;
}

static int run(struct fake *f, const struct lbr_retry_policy *p, struct lbr_call_result *res)
{
	struct lbr_clock clk = { f_now, f_sleep, f_rand, f };
	struct lbr_retry_hooks h = { f_attempt, f_stop, NULL, f };

	return lbr_retry_run(p, &clk, &h, res);
}

int main(void)
{
	struct lbr_retry_policy p = lbr_retry_default;
	struct lbr_call_result res;
	struct fake f;
	int n, i;

	/* Backoff ceilings: 200, 400, 800, ... capped at 10 s. */
	tap_is_int(lbr_retry_backoff(&p, 1, 0.999999), 200, "first backoff ceiling is the base");
	tap_is_int(lbr_retry_backoff(&p, 2, 0.999999), 400, "second doubles");
	tap_is_int(lbr_retry_backoff(&p, 4, 0.999999), 1600, "fourth is base*8");
	tap_is_int(lbr_retry_backoff(&p, 30, 0.999999), 10000, "the cap holds for large attempts");
	tap_is_int(lbr_retry_backoff(&p, 3, 0.0), 0, "full jitter reaches 0");
	tap_is_int(lbr_retry_backoff(&p, 3, 0.5), 400, "full jitter is uniform below the ceiling");

	/* Transient twice, then ok: two sleeps with growing ceilings. */
	memset(&f, 0, sizeof(f));
	f.rnd = 0.999999;
	f.outcomes[0] = LBR_OUT_TRANSIENT;
	f.outcomes[1] = LBR_OUT_TRANSIENT;
	f.outcomes[2] = LBR_OUT_OK;
	f.n_out = 3;
	n = run(&f, &p, &res);
	tap_is_int(n, 3, "three attempts");
	tap_is_int(res.outcome, LBR_OUT_OK, "ends ok");
	tap_is_int(f.n_sleeps, 2, "two waits");
	tap_is_int(f.slept[0], 200, "first wait 200 ms");
	tap_is_int(f.slept[1], 400, "second wait 400 ms");

	/* Not retryable outcomes stop at once. */
	{
		enum lbr_outcome finals[] = { LBR_OUT_NOT_FOUND, LBR_OUT_AUTH, LBR_OUT_INVALID,
					      LBR_OUT_BLOCKED };

		for (i = 0; i < 4; i++) {
			memset(&f, 0, sizeof(f));
			f.outcomes[0] = finals[i];
			f.n_out = 1;
			n = run(&f, &p, &res);
			tap_ok(n == 1 && f.n_sleeps == 0 && res.outcome == finals[i],
			       "outcome %d is final after one attempt", finals[i]);
		}
	}

	/* Attempt budget. */
	memset(&f, 0, sizeof(f));
	f.rnd = 0.1;
	f.outcomes[0] = LBR_OUT_TRANSIENT;
	f.n_out = 1;
	n = run(&f, &p, &res);
	tap_is_int(n, (int)p.max_attempts, "transient failures stop at max_attempts");
	tap_ok(strstr(res.message, "gave up after 6 attempts") != NULL,
	       "message says it gave up: %s", res.message);

	/* Conflicts are bounded separately (Huawei 409 ELB.8907). */
	memset(&f, 0, sizeof(f));
	f.outcomes[0] = LBR_OUT_CONFLICT;
	f.n_out = 1;
	n = run(&f, &p, &res);
	tap_is_int(n, (int)p.max_conflicts, "conflicts stop at max_conflicts");
	tap_ok(strstr(res.message, "still conflicting") != NULL, "conflict message: %s",
	       res.message);

	/* Throttled answers have their own, larger budget and short waits:
	 * the provider's pacing does the slowing down. */
	memset(&f, 0, sizeof(f));
	f.rnd = 0.999999;
	f.outcomes[0] = LBR_OUT_THROTTLED;
	f.n_out = 1;
	n = run(&f, &p, &res);
	tap_is_int(n, (int)p.max_throttled, "throttled answers stop at max_throttled");
	tap_ok(strstr(res.message, "still throttled after 40 attempts") != NULL,
	       "throttle message: %s", res.message);
	{
		uint64_t longest = 0;

		for (i = 0; i < f.n_sleeps; i++)
			longest = f.slept[i] > longest ? f.slept[i] : longest;
		tap_is_int(longest, 1000, "waits after throttling are capped at 1 s");
	}
	memset(&f, 0, sizeof(f));
	for (i = 0; i < 12; i++)
		f.outcomes[i] = i % 2 ? LBR_OUT_TRANSIENT : LBR_OUT_THROTTLED;
	f.outcomes[12] = LBR_OUT_OK;
	f.n_out = 13;
	n = run(&f, &p, &res);
	tap_ok(n == 12 && res.outcome == LBR_OUT_TRANSIENT,
	       "interleaved: the 6th transient failure ends it after 12 attempts; throttled ones did not count (%d)",
	       n);

	/* Retry-After is honoured even when the jittered backoff is shorter. */
	memset(&f, 0, sizeof(f));
	f.rnd = 0.0;
	f.outcomes[0] = LBR_OUT_THROTTLED;
	f.retry_after[0] = 3000;
	f.outcomes[1] = LBR_OUT_OK;
	f.n_out = 2;
	n = run(&f, &p, &res);
	tap_ok(n == 2 && f.slept[0] == 3000, "Retry-After 3 s waited 3 s (got %llu)",
	       (unsigned long long)f.slept[0]);

	/* ...but an unreasonable Retry-After makes us give up, not sleep. */
	memset(&f, 0, sizeof(f));
	f.outcomes[0] = LBR_OUT_THROTTLED;
	f.retry_after[0] = 600000;
	f.n_out = 1;
	n = run(&f, &p, &res);
	tap_ok(n == 1 && f.n_sleeps == 0, "Retry-After of 600 s: no sleep, give up");
	tap_ok(strstr(res.message, "retry after 600 s") != NULL, "message names the wait: %s",
	       res.message);

	/* Per-call deadline. */
	{
		struct lbr_retry_policy q = p;

		q.deadline_ms = 1000;
		q.max_attempts = 100;
		memset(&f, 0, sizeof(f));
		f.rnd = 0.999999;
		f.outcomes[0] = LBR_OUT_TRANSIENT;
		f.n_out = 1;
		n = run(&f, &q, &res);
		tap_ok(f.now <= 1000, "deadline respected (virtual time %llu ms)",
		       (unsigned long long)f.now);
		tap_ok(strstr(res.message, "deadline") != NULL, "deadline message: %s",
		       res.message);
	}

	/* The stop hook (provider credentials rejected elsewhere). */
	memset(&f, 0, sizeof(f));
	f.outcomes[0] = LBR_OUT_TRANSIENT;
	f.n_out = 1;
	f.stop_after = 2;
	n = run(&f, &p, &res);
	tap_ok(n == 1 && res.outcome == LBR_OUT_AUTH,
	       "stop hook ends the retries before attempt 2");
	memset(&f, 0, sizeof(f));
	f.outcomes[0] = LBR_OUT_OK;
	f.n_out = 1;
	f.stop_after = 1;
	n = run(&f, &p, &res);
	tap_ok(n == 0 && f.attempts == 0, "stop hook prevents the first attempt");

	/* Decide: retryable classification. */
	tap_ok(lbr_retry_retryable(LBR_OUT_TRANSIENT) && lbr_retry_retryable(LBR_OUT_THROTTLED) &&
		       lbr_retry_retryable(LBR_OUT_CONFLICT) && !lbr_retry_retryable(LBR_OUT_OK) &&
		       !lbr_retry_retryable(LBR_OUT_AUTH),
	       "retryable outcomes are transient, throttled, conflict");
	return tap_done();
}

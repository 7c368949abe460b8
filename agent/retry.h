/*
 * The retry policy, in one place: which outcomes are retried, how long to
 * wait (exponential backoff with full jitter and a cap, Retry-After
 * honoured), and when to give up (attempt budget, bounded conflicts, a
 * per-call deadline).  The clock is injected so tests can run it without
 * sleeping.
 */
#ifndef LBR_RETRY_H
#define LBR_RETRY_H

#include <stdint.h>

#include "lbreconcile/provider.h"

struct lbr_retry_policy {
	unsigned base_ms;         /* first backoff ceiling */
	unsigned cap_ms;          /* largest backoff ceiling */
	unsigned max_attempts;    /* attempts in all, for transient/throttled */
	unsigned max_conflicts;   /* attempts that may end in a conflict */
	unsigned max_throttled;   /* attempts that may be throttled; they do not
				 * count against max_attempts: the provider's
				 * pacing slows everyone down instead */
	unsigned throttle_cap_ms; /* backoff ceiling after a throttled answer */
	unsigned max_wait_ms;     /* a longer Retry-After makes us give up */
	unsigned deadline_ms;     /* whole call, retries included */
};

/* The defaults: 200 ms base, 10 s cap, 6 attempts, 3 conflicts, 40
 * throttled answers (backoff capped at 1 s), 60 s max Retry-After, 120 s
 * deadline. */
extern const struct lbr_retry_policy lbr_retry_default;

struct lbr_clock {
	uint64_t (*now_ms)(void *ud);
	/* Sleep; return non-zero when interrupted (shutdown). */
	int (*sleep_ms)(void *ud, uint64_t ms);
	double (*rand)(void *ud); /* [0,1) */
	void *ud;
};

/* The real clock (monotonic time, nanosleep, lbr_random). */
extern const struct lbr_clock lbr_clock_real;

enum lbr_retry_verdict {
	LBR_RETRY_DONE = 0,    /* final outcome (success or not retryable) */
	LBR_RETRY_AGAIN = 1,   /* wait *wait_ms then try again */
	LBR_RETRY_GIVE_UP = 2, /* retryable, but the budget is spent */
};

/* 1 when an outcome may succeed if tried again. */
int lbr_retry_retryable(enum lbr_outcome o);

/* Backoff before attempt number `attempt` + 1 (attempt >= 1 attempts have
 * failed): uniform in [0, min(cap, base * 2^(attempt-1))] ("full jitter"),
 * rnd in [0,1). */
uint64_t lbr_retry_backoff(const struct lbr_retry_policy *p, unsigned attempt, double rnd);

/* Decide what to do after `attempts` attempts (>= 1) of which `conflicts`
 * ended in LBR_OUT_CONFLICT and `throttled` in LBR_OUT_THROTTLED, the last
 * one giving `res`, with `elapsed_ms`
 * since the first attempt started.  On LBR_RETRY_AGAIN, *wait_ms is set.
 * On GIVE_UP, `why` (if non-NULL) receives a short reason. */
enum lbr_retry_verdict lbr_retry_decide(const struct lbr_retry_policy *p,
					const struct lbr_call_result *res, unsigned attempts,
					unsigned conflicts, unsigned throttled, uint64_t elapsed_ms,
					double rnd, uint64_t *wait_ms, char *why, size_t whylen);

/* Hooks for lbr_retry_run. */
struct lbr_retry_hooks {
	/* One attempt: fill res.  Return negative on an internal failure. */
	int (*attempt)(void *ud, struct lbr_call_result *res);
	/* Before each attempt: return non-zero to stop (e.g. the provider's
	 * credentials were rejected by another call), filling res. */
	int (*stop)(void *ud, struct lbr_call_result *res);
	/* After a failed attempt that will be retried (may be NULL). */
	void (*on_retry)(void *ud, const struct lbr_call_result *res, unsigned attempt,
			 uint64_t wait_ms);
	void *ud;
};

/* Run attempts until a final outcome or the budget is spent.  res holds the
 * last outcome (message extended with the give-up reason).  Returns the
 * number of attempts made (>= 0), or negative on internal failure. */
int lbr_retry_run(const struct lbr_retry_policy *p, const struct lbr_clock *clk,
		  const struct lbr_retry_hooks *h, struct lbr_call_result *res);

#endif

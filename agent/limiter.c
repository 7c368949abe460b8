/*
 * The per-provider limiter: see limiter.h.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>

#include "agent/exec.h"
#include "agent/limiter.h"
#include "agent/util.h"

void lbr_limiter_init(struct lbr_prov_rt *p, int max_window)
{
	p->lim.max_window = max_window;
	p->lim.window = max_window;
}

/* Wait for a slot: at most `window` calls in flight for the provider and,
 * once it has throttled us, no faster than `rate` calls per second. */
void lbr_limiter_acquire(struct lbr_prov_rt *p)
{
	uint64_t now, t = 0;

	/* Fast path: while the provider has never throttled us, the worker
	 * count alone bounds the calls in flight; no lock is needed. */
	if (!__atomic_load_n(&p->lim.limited, __ATOMIC_ACQUIRE)) {
		__atomic_add_fetch(&p->lim.inflight, 1, __ATOMIC_ACQ_REL);
		return;
	}
	pthread_mutex_lock(&p->mu);
	/* In order of arrival: a caller that just gave a slot back must not
	 * take it again ahead of those already waiting (with tasks, which
	 * run until they yield, it always would: a few would do all the
	 * work while the others wait for the whole batch). */
	{
		unsigned long me = p->lim.ticket_next++;

		while (me != p->lim.ticket_serving ||
		       __atomic_load_n(&p->lim.inflight, __ATOMIC_ACQUIRE) >= (int)p->lim.window) {
			p->lim.waiting++;
			lbr_exec_cond_wait(&p->cv, &p->mu);
			p->lim.waiting--;
		}
		p->lim.ticket_serving++;
	}
	__atomic_add_fetch(&p->lim.inflight, 1, __ATOMIC_ACQ_REL);
	if (p->lim.waiting)
		lbr_exec_cond_broadcast(&p->cv); /* the next in line may fit too */
	if (p->lim.rate > 0) {
		now = lbr_mono_us();
		t = p->lim.next_send_us > now ? p->lim.next_send_us : now;
		p->lim.next_send_us = t + (uint64_t)(1e6 / p->lim.rate);
		t = t > now ? t - now : 0;
	}
	pthread_mutex_unlock(&p->mu);
	if (t)
		lbr_exec_sleep_us(t);
}

static unsigned recent(const uint64_t *ring, uint64_t now)
{
	unsigned i, n = 0;

	for (i = 0; i < LBR_RATE_RING; i++) {
		uint64_t t = __atomic_load_n(&ring[i], __ATOMIC_RELAXED);

		if (t && t + 1000 >= now)
			n++;
	}
	return n;
}

/* Adapt to throttling.  A throttled answer is a rate signal only when it is
 * not a stray one: at least 3 in the last second and at least 10 % of the
 * answers (a few random 429s are just retried).  The first signal starts
 * pacing at 90 % of what got through in the last second; each further one
 * (once paced: any throttled answer, at most one cut per 250 ms, so that
 * a burst of 429s counts once) takes 20 % off.  After a second without a
 * signal the rate grows by 1.5 % every 100 ms, probing for more; far above
 * any limit met, pacing stops.
 * Concurrency follows: halved (not below 2) on a signal, +1/window per
 * success. */
void lbr_limiter_release(struct lbr_prov_rt *p, enum lbr_op op, enum lbr_outcome o)
{
	uint64_t now = lbr_mono_ms();
	int ok = o == LBR_OUT_OK || o == LBR_OUT_NOT_FOUND;

	__atomic_sub_fetch(&p->lim.inflight, 1, __ATOMIC_ACQ_REL);
	if ((unsigned)o < LBR_OUTCOME_COUNT)
		__atomic_add_fetch(&p->stats.calls[op][o], 1, __ATOMIC_RELAXED);
	if (ok) {
		unsigned i = __atomic_fetch_add(&p->lim.ok_head, 1, __ATOMIC_RELAXED);

		__atomic_store_n(&p->lim.ok_ring[i % LBR_RATE_RING], now, __ATOMIC_RELAXED);
		if (!__atomic_load_n(&p->lim.limited, __ATOMIC_ACQUIRE))
			return; /* nothing to adapt */
	}
	pthread_mutex_lock(&p->mu);
	if (o == LBR_OUT_THROTTLED) {
		unsigned thr, okn;

		p->stats.throttled++;
		p->lim.thr_ring[p->lim.thr_head++ % LBR_RATE_RING] = now;
		thr = recent(p->lim.thr_ring, now);
		okn = recent(p->lim.ok_ring, now);
		/* Not paced yet: only a real signal starts pacing.  Paced:
		 * any throttled answer means we are above the limit again. */
		if ((p->lim.rate > 0 ? now - p->lim.last_cut_ms >= 250
				     : thr >= 3 && thr * 10 >= okn + thr &&
					       now - p->lim.last_cut_ms >= 500)) {
			if (p->lim.rate <= 0)
				p->lim.rate = okn > 2 ? okn * 0.9 : 2;
			else
				p->lim.rate = p->lim.rate * 0.8 < 1 ? 1 : p->lim.rate * 0.8;
			p->lim.window = p->lim.window / 2 < 2 ? 2 : p->lim.window / 2;
			p->lim.last_cut_ms = now;
			__atomic_store_n(&p->lim.limited, 1, __ATOMIC_RELEASE);
		}
	} else if (ok) {
		p->lim.window += 1.0 / p->lim.window;
		if (p->lim.window > p->lim.max_window)
			p->lim.window = p->lim.max_window;
		if (p->lim.rate > 0 && now - p->lim.last_cut_ms >= 1000 &&
		    now - p->lim.last_inc_ms >= 100) {
			p->lim.rate *= 1.015;
			p->lim.last_inc_ms = now;
			if (p->lim.rate > 20000)
				p->lim.rate = 0; /* no longer throttled in any way that matters */
		}
		if (p->lim.rate <= 0 && p->lim.window >= p->lim.max_window)
			__atomic_store_n(&p->lim.limited, 0, __ATOMIC_RELEASE);
	}
	if (p->lim.waiting)
		lbr_exec_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "agent/curl-load.h"
#include "agent/error.h"
#include "agent/preconnect.h"
#include "agent/sched.h"
#include "agent/util.h"

/* Stack switches have to be announced to AddressSanitizer (or it reports
 * the other stack's frames as errors) and to valgrind (or it takes a jump
 * between stacks for a huge stack frame). */
#if defined(__SANITIZE_ADDRESS__)
#define LBR_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LBR_ASAN 1
#endif
#endif
#ifdef LBR_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define STACK_SIZE (2u << 20) /* instrumented frames are much larger */
#else
#define STACK_SIZE (512u << 10)
#endif
/* How much of the top of a task's stack is faulted in when it is made. */
#define STACK_HOT (64u << 10)
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define LBR_VALGRIND 1
#endif
#endif

/* How long the loop may sleep in poll() before looking at the clock again
 * (sleeping tasks re-check their stop flag at least this often). */
#define MAX_POLL_MS 100

enum task_state { T_FREE, T_RUN, T_HTTP, T_SLEEP, T_PARK, T_DONE };

struct task {
	ucontext_t ctx;
	char *map; /* guard page + stack: a slot of the scheduler's region */
	size_t map_size;
	CURL *easy;
	enum task_state st;
	uint64_t wake_us; /* T_SLEEP, or T_PARK with a limit; 0 = none */
	const void *chan; /* T_PARK */
	CURL *in_multi;   /* T_HTTP: the handle being performed */
	CURLcode cc;      /* T_HTTP result */
	struct lbr_preconnect_use pcu;
#ifdef LBR_VALGRIND
	unsigned vg_id;
#endif
#ifdef LBR_ASAN
	void *fake_stack;
#endif
};

struct sock {
	curl_socket_t fd;
	short events;
};

struct lbr_sched {
	CURLM *multi;
	/* What libcurl wants watched (its socket callback), and when it
	 * wants to be called again (its timer callback). */
	struct sock *socks;
	size_t n_socks, cap_socks;
	struct pollfd *pfd;
	size_t cap_pfd;
	int timer_set;
	uint64_t timer_us;
	struct task *tasks;
	unsigned n;
	/* Every task's stack, each with a guard page below, is one slot of
	 * one mapping: unmapping 32 stacks one by one cost 1.9 ms on a VM (a
	 * TLB shootdown each), the one mapping 0.1 ms. */
	char *region;
	size_t region_size;
	int region_failed; /* then each stack is a mapping of its own */
	ucontext_t main_ctx;
	struct task *cur;
	unsigned live;
	unsigned stuck; /* rounds in a row with every task parked */
	/* the batch being run */
	void (*fn)(void *);
	char *args;
	size_t argsz, n_jobs, next;
	struct lbr_preconnect *pc; /* connections opened ahead */
#ifdef LBR_ASAN
	void *main_fake;
	const void *main_bottom;
	size_t main_size;
#endif
};

static __thread struct lbr_sched *cur_sched;

/* libcurl drives its transfers through curl_multi_socket_action(): it
 * says which sockets to watch for what, and is told which ones are ready,
 * so that no transfer costs a poll() of its own. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *ud, void *sockp)
{
	struct lbr_sched *s = ud;
	size_t i;

	(void)easy;
	(void)sockp;
	for (i = 0; i < s->n_socks; i++)
		if (s->socks[i].fd == fd)
			break;
	if (what == CURL_POLL_REMOVE) {
		if (i < s->n_socks)
			s->socks[i] = s->socks[--s->n_socks];
		return 0;
	}
	if (i == s->n_socks) {
		if (s->n_socks == s->cap_socks) {
			size_t ncap = s->cap_socks ? s->cap_socks * 2 : 32;
			struct sock *ns = realloc(s->socks, ncap * sizeof(*ns));

			if (!ns)
				return -1; /* libcurl then gives up the whole multi */
			s->socks = ns;
			s->cap_socks = ncap;
		}
		s->socks[s->n_socks++].fd = fd;
	}
	s->socks[i].events = (short)(((what & CURL_POLL_IN) ? POLLIN : 0) |
				     ((what & CURL_POLL_OUT) ? POLLOUT : 0));
	return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *ud)
{
	struct lbr_sched *s = ud;

	(void)multi;
	s->timer_set = timeout_ms >= 0;
	if (s->timer_set)
		s->timer_us = lbr_mono_us() + (uint64_t)timeout_ms * 1000u;
	return 0;
}

static void multi_setup(struct lbr_sched *s)
{
	/* Keep one idle connection per task (plus a few for other hosts,
	 * such as the token endpoint): by default the cache follows the
	 * number of transfers in progress and would close connections
	 * whenever fewer calls are in flight. */
	lbr_curl.multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, (long)s->n + 4);
	/* One request per connection, as with a thread per call: no HTTP/2
	 * multiplexing of every call onto one connection, where one reset
	 * would fail them all and a gateway may cap streams per connection. */
	lbr_curl.multi_setopt(s->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
	lbr_curl.multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	lbr_curl.multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s);
	lbr_curl.multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	lbr_curl.multi_setopt(s->multi, CURLMOPT_TIMERDATA, s);
}

int lbr_sched_new(unsigned ntasks, struct lbr_sched **out)
{
	struct lbr_sched *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s || ntasks == 0)
		goto fail;
	if (lbr_curl_wait(NULL, 0) < 0) {
		free(s);
		return LBR_ERR;
	}
	s->tasks = calloc(ntasks, sizeof(*s->tasks));
	s->multi = lbr_curl.multi_init();
	if (!s->tasks || !s->multi)
		goto fail;
	s->n = ntasks;
	s->pc = lbr_preconnect_new(ntasks);
	if (!s->pc)
		goto fail;
	for (unsigned i = 0; i < ntasks; i++)
		s->tasks[i].pcu = (struct lbr_preconnect_use){ s->pc, 0, CURL_SOCKET_BAD };
	multi_setup(s);
	*out = s;
	return 0;
fail:
	if (s) {
		if (s->multi)
			lbr_curl.multi_cleanup(s->multi);
		free(s->tasks);
		free(s);
	}
	return LBR_ENOMEM;
}

void lbr_sched_free(struct lbr_sched *s)
{
	unsigned i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++) {
		struct task *t = &s->tasks[i];

		if (t->easy)
			lbr_curl.easy_cleanup(t->easy);
#ifdef LBR_VALGRIND
		if (t->map)
			VALGRIND_STACK_DEREGISTER(t->vg_id);
#endif
		if (t->map && !s->region)
			munmap(t->map, t->map_size);
	}
	if (s->region)
		munmap(s->region, s->region_size);
	lbr_preconnect_free(s->pc);
	lbr_curl.multi_cleanup(s->multi);
	free(s->socks);
	free(s->pfd);
	free(s->tasks);
	free(s);
}

/* Task t's stack, with a guard page below it.  The region is reserved
 * inaccessible for every task when the first one starts (no memory is
 * committed for it, and it never becomes one large writable mapping the
 * kernel could back with huge pages); a slot's stack is made writable
 * when the slot is first used, and its guard page stays as it was
 * reserved.  Where the region cannot be reserved (an address-space
 * limit), each stack is a mapping of its own, as the region's slots. */
static int stack_alloc(struct lbr_sched *s, struct task *t)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t page = pg > 0 ? (size_t)pg : 4096, slot = STACK_SIZE + page;
	char *map;

	if (!s->region && !s->region_failed) {
		void *r = mmap(NULL, slot * s->n, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);

		if (r == MAP_FAILED) {
			s->region_failed = 1;
		} else {
			s->region = r;
			s->region_size = slot * s->n;
		}
	}
	if (s->region) {
		map = s->region + (size_t)(t - s->tasks) * slot;
	} else {
		map = mmap(NULL, slot, PROT_NONE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
		if (map == MAP_FAILED)
			return -1;
	}
	if (mprotect(map + page, STACK_SIZE, PROT_READ | PROT_WRITE) < 0) {
		if (!s->region)
			munmap(map, slot);
		return -1;
	}
	t->map = map;
	t->map_size = slot;
#ifdef MADV_POPULATE_WRITE
	/* The top of the stack, which every task uses, faulted in at once
	 * (a fault costs 10 us on a VM, populating 0.6 us a page; see
	 * lbr_heap_prefault). */
	(void)madvise(t->map + t->map_size - STACK_HOT, STACK_HOT, MADV_POPULATE_WRITE);
#endif
#ifdef LBR_VALGRIND
	t->vg_id = VALGRIND_STACK_REGISTER(t->map + page, t->map + t->map_size - 1);
#endif
	return 0;
}

/* The usable stack: everything above the guard page. */
static char *stack_base(const struct task *t)
{
	return t->map + (t->map_size - STACK_SIZE);
}

/* swapcontext(), spelled getcontext() + setcontext(): AddressSanitizer
 * intercepts swapcontext() only to print a warning on stderr (where the
 * tests read the agent's messages); the switches are announced to it
 * below instead.  The flag lives in this frame, on the stack being left,
 * which stays as it is until the context is resumed. */
static __attribute__((noinline)) void switch_ctx(ucontext_t *from, const ucontext_t *to)
{
	volatile int resumed = 0;

	getcontext(from);
	if (!resumed) {
		resumed = 1;
		setcontext(to);
	}
}

/* Task side: give the thread back to the loop (the state says why). */
static void yield(struct lbr_sched *s, struct task *t)
{
#ifdef LBR_ASAN
	__sanitizer_start_switch_fiber(&t->fake_stack, s->main_bottom, s->main_size);
#endif
	switch_ctx(&t->ctx, &s->main_ctx);
#ifdef LBR_ASAN
	__sanitizer_finish_switch_fiber(t->fake_stack, &s->main_bottom, &s->main_size);
#endif
}

static void task_main(void)
{
	struct lbr_sched *s = cur_sched;
	struct task *t = s->cur;

#ifdef LBR_ASAN
	__sanitizer_finish_switch_fiber(NULL, &s->main_bottom, &s->main_size);
#endif
	while (s->next < s->n_jobs) {
		size_t i = s->next++;

		s->fn(s->args + i * s->argsz);
	}
	t->st = T_DONE;
#ifdef LBR_ASAN
	__sanitizer_start_switch_fiber(NULL, s->main_bottom, s->main_size);
#endif
	setcontext(&s->main_ctx);
	abort(); /* not reached */
}

/* Loop side: run task t until it yields or ends. */
static void resume(struct lbr_sched *s, struct task *t)
{
	s->cur = t;
#ifdef LBR_ASAN
	__sanitizer_start_switch_fiber(&s->main_fake, stack_base(t), STACK_SIZE);
#endif
	switch_ctx(&s->main_ctx, &t->ctx);
#ifdef LBR_ASAN
	__sanitizer_finish_switch_fiber(s->main_fake, NULL, NULL);
#endif
	s->cur = NULL;
	if (t->st == T_DONE) {
		t->st = T_FREE;
		s->live--;
	}
}

/* Hand finished transfers back to their tasks. */
static void harvest(struct lbr_sched *s)
{
	CURLMsg *msg;
	int left;

	while ((msg = lbr_curl.multi_info_read(s->multi, &left)) != NULL) {
		struct task *t = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		lbr_curl.easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
		if (t) {
			t->cc = msg->data.result;
			lbr_curl.multi_remove_handle(s->multi, msg->easy_handle);
			t->in_multi = NULL;
			t->st = T_RUN;
		}
	}
}

/* libcurl refused to go on (a callback failed, out of memory): fail every
 * transfer in progress rather than wait for answers that will not come. */
static void fail_all(struct lbr_sched *s, CURLMcode mc)
{
	unsigned i;

	if (mc == CURLM_OK)
		return;
	for (i = 0; i < s->n; i++) {
		struct task *t = &s->tasks[i];

		if (t->st != T_HTTP)
			continue;
		lbr_curl.multi_remove_handle(s->multi, t->in_multi);
		t->in_multi = NULL;
		t->cc = CURLE_OUT_OF_MEMORY;
		t->st = T_RUN;
	}
	/* A multi that gave up stays unusable: start a fresh one. */
	if (mc == CURLM_OUT_OF_MEMORY || mc == CURLM_INTERNAL_ERROR
#if LIBCURL_VERSION_NUM >= 0x075100
	    || mc == CURLM_ABORTED_BY_CALLBACK
#endif
	) {
		CURLM *m = lbr_curl.multi_init();

		if (m) {
			lbr_curl.multi_cleanup(s->multi);
			s->multi = m;
			s->n_socks = 0;
			s->timer_set = 0;
			multi_setup(s);
		}
	}
}

/* A fresh context that starts in task_main on t's stack.  (Apart, since
 * getcontext() returns twice.) */
static __attribute__((noinline)) int task_init(struct lbr_sched *s, struct task *t)
{
	if (!t->map && stack_alloc(s, t) < 0)
		return -1;
#ifdef LBR_ASAN
	/* Frames of the task that ran here before may have left poisoned
	 * red zones behind. */
	__asan_unpoison_memory_region(stack_base(t), STACK_SIZE);
#endif
	if (getcontext(&t->ctx) < 0)
		return -1;
	t->ctx.uc_stack.ss_sp = stack_base(t);
	t->ctx.uc_stack.ss_size = STACK_SIZE;
	t->ctx.uc_link = NULL;
	makecontext(&t->ctx, task_main, 0);
	return 0;
}

/* Run task t until it yields.  A request it made goes out now, not after
 * every other runnable task had its turn: when many answers come back at
 * once, the connection of the first would otherwise stay idle while the
 * last one is read. */
static void step(struct lbr_sched *s, struct task *t)
{
	int running = 0;
	CURLMcode mc;

	resume(s, t);
	if (t->st == T_HTTP && s->timer_set && s->timer_us <= lbr_mono_us()) {
		s->timer_set = 0;
		mc = lbr_curl.multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0, &running);
		harvest(s);
		fail_all(s, mc);
	}
}

/* Run the jobs in the calling thread; if a task cannot be set up, the
 * jobs still all run, on the tasks that could. */
void lbr_sched_run(struct lbr_sched *s, void (*fn)(void *), void *args, size_t argsz, size_t n)
{
	unsigned i, start;
	int started = 0;

	if (!n)
		return;
	if (lbr_sched_in_task()) {
		/* A batch started from inside a task cannot take over this
		 * thread: run it in line. */
		size_t k;

		for (k = 0; k < n; k++)
			fn((char *)args + k * argsz);
		return;
	}
	s->fn = fn;
	s->args = args;
	s->argsz = argsz;
	s->n_jobs = n;
	s->next = 0;
	s->live = 0;
	s->stuck = 0;
	start = n < s->n ? (unsigned)n : s->n;
	cur_sched = s;
	for (i = 0; i < start; i++) {
		struct task *t = &s->tasks[i];

		if (task_init(s, t) < 0)
			continue;
		t->st = T_RUN;
		t->wake_us = 0;
		t->chan = NULL;
		s->live++;
		/* The first task runs at once: its first request is on its
		 * way while the other stacks are made (1 ms for 32 on a VM). */
		if (!started) {
			started = 1;
			step(s, t);
			if (s->next >= s->n_jobs)
				break; /* it took every job: no other task needed */
		}
	}
	if (!started) {
		/* No stack at all: run the jobs one by one on this one. */
		cur_sched = NULL;
		for (; s->next < s->n_jobs; s->next++)
			fn((char *)args + s->next * argsz);
		return;
	}
	while (s->live) {
		unsigned runnable = 0, parked = 0, waiting = 0;
		uint64_t now, next_wake = 0, ms;
		size_t k, nfd;
		int running = 0, pr;
		CURLMcode mc = CURLM_OK;

		for (i = 0; i < s->n; i++)
			if (s->tasks[i].st == T_RUN)
				step(s, &s->tasks[i]);
		if (!s->live)
			break;
		now = lbr_mono_us();
		if (s->timer_set && s->timer_us <= now) {
			/* Starts the transfers just added, handles timeouts. */
			s->timer_set = 0;
			mc = lbr_curl.multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0,
							  &running);
			harvest(s);
			fail_all(s, mc);
			now = lbr_mono_us();
		}
		for (i = 0; i < s->n; i++) {
			struct task *t = &s->tasks[i];

			if ((t->st == T_SLEEP || t->st == T_PARK) && t->wake_us) {
				if (t->wake_us <= now)
					t->st = T_RUN;
				else if (!next_wake || t->wake_us < next_wake)
					next_wake = t->wake_us;
			}
			runnable += t->st == T_RUN;
			parked += t->st == T_PARK;
			waiting += t->st == T_HTTP || t->st == T_SLEEP ||
				   (t->st == T_PARK && t->wake_us);
		}
		if (runnable)
			continue;
		if (!waiting && parked) {
			/* Everyone waits for a wake-up nobody can send: let
			 * them look at their condition again, without
			 * spinning if it stays false. */
			if (s->stuck++)
				poll(NULL, 0, MAX_POLL_MS);
			for (i = 0; i < s->n; i++)
				if (s->tasks[i].st == T_PARK)
					s->tasks[i].st = T_RUN;
			continue;
		}
		s->stuck = 0;
		lbr_preconnect_expire(s->pc);
		if (s->timer_set && (!next_wake || s->timer_us < next_wake))
			next_wake = s->timer_us;
		ms = MAX_POLL_MS;
		if (next_wake) {
			uint64_t d = next_wake > now ? (next_wake - now + 999) / 1000 : 0;

			if (d < ms)
				ms = d;
		}
		if (s->cap_pfd < s->n_socks) {
			struct pollfd *np = realloc(s->pfd, s->n_socks * sizeof(*np));

			if (np) {
				s->pfd = np;
				s->cap_pfd = s->n_socks;
			}
		}
		nfd = s->n_socks <= s->cap_pfd ? s->n_socks : s->cap_pfd;
		for (k = 0; k < nfd; k++) {
			s->pfd[k].fd = s->socks[k].fd;
			s->pfd[k].events = s->socks[k].events;
			s->pfd[k].revents = 0;
		}
		pr = poll(s->pfd, (nfds_t)nfd, (int)ms);
		for (k = 0; pr > 0 && k < nfd; k++) {
			short re = s->pfd[k].revents;
			int mask = 0;

			if (!re)
				continue;
			if (re & (POLLIN | POLLHUP))
				mask |= CURL_CSELECT_IN;
			if (re & POLLOUT)
				mask |= CURL_CSELECT_OUT;
			if (re & (POLLERR | POLLNVAL))
				mask |= CURL_CSELECT_ERR;
			mc = lbr_curl.multi_socket_action(s->multi, s->pfd[k].fd, mask, &running);
			if (mc != CURLM_OK)
				break;
		}
		harvest(s);
		fail_all(s, mc);
	}
	lbr_preconnect_drop(s->pc); /* not taken: nobody waits for them any more */
	cur_sched = NULL;
}

int lbr_sched_in_task(void)
{
	return cur_sched && cur_sched->cur;
}

void *lbr_sched_easy(void)
{
	struct task *t = lbr_sched_in_task() ? cur_sched->cur : NULL;

	if (!t)
		return NULL;
	if (!t->easy)
		t->easy = lbr_curl.easy_init();
	return t->easy;
}

int lbr_sched_perform(void *h)
{
	struct lbr_sched *s = cur_sched;
	struct task *t = s ? s->cur : NULL;

	if (!t)
		return lbr_curl.easy_perform(h);
	lbr_curl.easy_setopt(h, CURLOPT_PRIVATE, (char *)t);
	lbr_preconnect_attach(&t->pcu, h);
	if (lbr_curl.multi_add_handle(s->multi, h) != CURLM_OK)
		return CURLE_OUT_OF_MEMORY;
	t->in_multi = h;
	t->st = T_HTTP;
	t->cc = CURLE_OK;
	yield(s, t);
	return t->cc;
}

void lbr_sched_sleep_us(uint64_t us)
{
	struct lbr_sched *s = cur_sched;
	struct task *t = s ? s->cur : NULL;

	if (!t) {
		struct timespec ts = { (time_t)(us / 1000000u), (long)(us % 1000000u) * 1000L };

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		return;
	}
	t->st = T_SLEEP;
	t->wake_us = lbr_mono_us() + (us ? us : 1);
	yield(s, t);
	t->wake_us = 0;
}

void lbr_sched_park(const void *chan, uint64_t timeout_us)
{
	struct lbr_sched *s = cur_sched;
	struct task *t = s ? s->cur : NULL;

	if (!t)
		return;
	t->st = T_PARK;
	t->chan = chan;
	t->wake_us = timeout_us ? lbr_mono_us() + timeout_us : 0;
	yield(s, t);
	t->chan = NULL;
	t->wake_us = 0;
}

void lbr_sched_wake(const void *chan)
{
	struct lbr_sched *s = cur_sched;
	unsigned i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		if (s->tasks[i].st == T_PARK && s->tasks[i].chan == chan)
			s->tasks[i].st = T_RUN;
}

void lbr_sched_warm(unsigned n)
{
	struct lbr_sched *s = cur_sched;

	if (s && s->cur)
		s->cur->pcu.want = n < s->n ? n : s->n - 1;
}

void lbr_sched_warm_stats(const struct lbr_sched *s, unsigned *opened, unsigned *taken)
{
	if (s)
		lbr_preconnect_stats(s->pc, opened, taken);
	else
		*opened = *taken = 0;
}

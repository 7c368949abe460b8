/*
 * The cooperative-task executor (agent/sched.c): every job runs once, at
 * most ntasks at a time; sleeps, waits and HTTP exchanges give the thread
 * to the other tasks; requests in flight really overlap and reuse their
 * connections from one batch to the next.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agent/http.h"
#include "agent/exec.h"
#include "agent/sched.h"
#include "agent/util.h"
#include "tap.h"

/* ------------------------------------------------ task stacks */

/* The mapping of /proc/self/maps that holds addr ([lo, hi), perms), or
 * the one that ends at addr when ending is set.  0 when there is none. */
static int find_map(uintptr_t addr, int ending, uintptr_t *lo, uintptr_t *hi, char perms[5])
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long a, b;

		if (sscanf(line, "%lx-%lx %4s", &a, &b, perms) != 3)
			continue;
		found = ending ? b == addr : (a <= addr && addr < b);
		*lo = a;
		*hi = b;
	}
	fclose(f);
	return found;
}

struct stack_job {
	uintptr_t at;    /* the job's frame, on its task's stack */
	uintptr_t stack; /* where the writable mapping holding it starts */
	int guarded;     /* the mapping right below it is inaccessible */
	int alone;       /* what is right above it is inaccessible and more than
			  * one page: the other stacks are not made yet */
};

static void stack_probe(void *arg)
{
	struct stack_job *j = arg;
	uintptr_t lo, hi, glo, ghi, alo, ahi;
	char perms[5], gperms[5], aperms[5];
	long page = sysconf(_SC_PAGESIZE);

	/* The frame, not a local's address: with ASan's detection of use
	 * after return, locals live on a stack of its own. */
	j->at = (uintptr_t)__builtin_frame_address(0);
	if (find_map(j->at, 0, &lo, &hi, perms) && perms[0] == 'r' && perms[1] == 'w') {
		j->stack = lo;
		j->guarded = find_map(lo, 1, &glo, &ghi, gperms) && !strncmp(gperms, "---", 3);
		j->alone = find_map(hi, 0, &alo, &ahi, aperms) && !strncmp(aperms, "---", 3) &&
			   ahi - alo > (uintptr_t)page;
	}
	/* All four are started before any returns. */
	lbr_sched_sleep_us(1000);
}

/* ------------------------------------------------ jobs, sleeps, waits */

struct job {
	int ran;
	int in_task;
};

static int inflight, max_inflight;

static void sleeper(void *arg)
{
	struct job *j = arg;

	j->ran++;
	j->in_task = lbr_sched_in_task();
	if (++inflight > max_inflight)
		max_inflight = inflight;
	lbr_sched_sleep_us(20000);
	inflight--;
}

static int flag, saw_flag, woke_alone, timed_out_ok;

static void waiter_or_setter(void *arg)
{
	int *which = arg;

	if (*which == 0) {
		/* Waits for the other job, re-checking like on a condvar. */
		while (!flag)
			lbr_sched_park(&flag, 0);
		saw_flag = flag;
	} else {
		lbr_sched_sleep_us(10000);
		flag = 1;
		lbr_sched_wake(&flag);
	}
}

static void lonely_waiter(void *arg)
{
	(void)arg;
	lbr_sched_park(&woke_alone, 0); /* nobody will wake it */
	woke_alone = 1;
}

static void timed_waiter(void *arg)
{
	uint64_t t0 = lbr_mono_ms();

	(void)arg;
	lbr_sched_park(&timed_out_ok, 30000);
	timed_out_ok = lbr_mono_ms() - t0 >= 29;
}

static struct lbr_sched *the_sched;
static int inner_ran[3], inner_in_task;

static void inner_job(void *arg)
{
	(*(int *)arg)++;
	inner_in_task += lbr_sched_in_task();
}

static void outer_job(void *arg)
{
	(void)arg;
	lbr_sched_run(the_sched, inner_job, inner_ran, sizeof(inner_ran[0]), 3);
}

static int other_ran_during_sleep, other_ran;

static void sleep_ms_pair(void *arg)
{
	int *which = arg;

	if (*which == 0) {
		lbr_exec_sleep_ms(50, NULL);
		other_ran_during_sleep = other_ran;
	} else {
		other_ran = 1;
	}
}

/* ----------------------------------------- a server that holds answers */

/* Answers nothing until HOLD requests are waiting (or 5 s have passed),
 * then answers them all with the number that were waiting.  Keep-alive. */
#define HOLD 6
#define MAXC 64

static int srv_fd, srv_port, srv_accepted, srv_stop;

static void *server_main(void *ud)
{
	int conns[MAXC], pending[MAXC], n = 0, i, np = 0;
	char buf[MAXC][2048];
	size_t len[MAXC];
	time_t first_wait = 0;

	(void)ud;
	while (!__atomic_load_n(&srv_stop, __ATOMIC_ACQUIRE)) {
		struct pollfd pfd[MAXC + 1];

		pfd[0].fd = srv_fd;
		pfd[0].events = POLLIN;
		for (i = 0; i < n; i++) {
			pfd[i + 1].fd = conns[i];
			pfd[i + 1].events = POLLIN;
		}
		if (poll(pfd, (nfds_t)n + 1, 50) < 0)
			break;
		/* Backwards, so that closing one (the last moves into its
		 * place) never moves a connection not yet looked at. */
		for (i = n - 1; i >= 0; i--) {
			ssize_t r;

			if (!(pfd[i + 1].revents & (POLLIN | POLLHUP)))
				continue;
			r = read(conns[i], buf[i] + len[i], sizeof(buf[i]) - 1 - len[i]);
			if (r <= 0) {
				close(conns[i]);
				if (pending[i])
					np--;
				conns[i] = conns[n - 1];
				pending[i] = pending[n - 1];
				len[i] = len[n - 1];
				memcpy(buf[i], buf[n - 1], len[i]);
				n--;
				continue;
			}
			len[i] += (size_t)r;
			buf[i][len[i]] = '\0';
			if (strstr(buf[i], "\r\n\r\n")) {
				pending[i] = 1;
				len[i] = 0;
				if (!np++)
					first_wait = time(NULL);
			}
		}
		/* New connections last: they were not in this poll. */
		if ((pfd[0].revents & POLLIN) && n < MAXC) {
			int c = accept(srv_fd, NULL, NULL);

			if (c >= 0) {
				conns[n] = c;
				pending[n] = 0;
				len[n] = 0;
				n++;
				__atomic_add_fetch(&srv_accepted, 1, __ATOMIC_RELEASE);
			}
		}
		if (np && (np >= HOLD || time(NULL) - first_wait >= 5)) {
			char resp[128];
			int bl;

			for (i = 0; i < n; i++) {
				char body[16];

				if (!pending[i])
					continue;
				bl = snprintf(body, sizeof(body), "%d", np);
				snprintf(resp, sizeof(resp),
					 "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", bl,
					 body);
				if (write(conns[i], resp, strlen(resp)) < 0)
					perror("write");
				pending[i] = 0;
			}
			np = 0;
		}
	}
	for (i = 0; i < n; i++)
		close(conns[i]);
	return NULL;
}

struct hjob {
	const char *url;
	int rc;
	long status;
	char body[32];
	char err[256];
};

static void http_job(void *arg)
{
	struct hjob *j = arg;
	struct lbr_http_opts o = { 0 };
	struct lbr_http_request req = { 0 };
	struct lbr_http_response resp;

	req.method = "GET";
	req.url = j->url;
	o.timeout_s = 10;
	j->rc = lbr_http_perform(&o, &req, &resp, j->err, sizeof(j->err));
	if (j->rc == 0) {
		j->status = resp.status;
		snprintf(j->body, sizeof(j->body), "%s", resp.body);
		lbr_http_release(&resp);
	}
}

static int listen_local(int *port)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) < 0)
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

int main(void)
{
	struct lbr_sched *s = NULL;
	struct job jobs[10];
	int which[2] = { 0, 1 }, i, ok;
	struct hjob hj[HOLD];
	char url[128], refused_url[128];
	pthread_t th;

	lbr_http_global_init();
	tap_ok(!lbr_sched_in_task() && lbr_sched_easy() == NULL,
	       "outside a task: not a task, no handle");
	tap_ok(lbr_sched_new(4, &s) == 0 && s, "a scheduler with 4 tasks");

	memset(jobs, 0, sizeof(jobs));
	lbr_sched_run(s, sleeper, jobs, sizeof(jobs[0]), 10);
	for (ok = 1, i = 0; i < 10; i++)
		ok &= jobs[i].ran == 1 && jobs[i].in_task;
	tap_ok(ok, "10 jobs on 4 tasks: each ran exactly once, inside a task");
	tap_is_int(max_inflight, 4, "sleeping jobs overlap, at most 4 at a time");
	tap_ok(!lbr_sched_in_task(), "after the run the caller is not a task");

	lbr_sched_run(s, waiter_or_setter, which, sizeof(which[0]), 2);
	tap_is_int(saw_flag, 1, "a parked job is woken by another one");
	lbr_sched_run(s, lonely_waiter, which, sizeof(which[0]), 1);
	tap_is_int(woke_alone, 1, "a job waiting for a wake-up nobody can send is let go");
	lbr_sched_run(s, timed_waiter, which, sizeof(which[0]), 1);
	tap_is_int(timed_out_ok, 1, "a wait with a limit ends at the limit");
	lbr_sched_run(s, sleep_ms_pair, which, sizeof(which[0]), 2);
	tap_is_int(other_ran_during_sleep, 1,
		   "lbr_exec_sleep_ms in a task lets the other tasks run");
	the_sched = s;
	lbr_sched_run(s, outer_job, which, sizeof(which[0]), 1);
	tap_ok(inner_ran[0] == 1 && inner_ran[1] == 1 && inner_ran[2] == 1 && inner_in_task == 3,
	       "a batch started inside a task runs in line, each job once");
	lbr_sched_free(s);
	s = NULL;

	/* Each task's stack has an inaccessible page right below it, so an
	 * overflow faults instead of running into the stack of the next task
	 * (the stacks are slots of one mapping); freeing the scheduler unmaps
	 * them all. */
	{
		struct stack_job sj[4];
		uintptr_t lo, hi;
		char perms[5];
		int apart = 1, gone = 1, k;

		memset(sj, 0, sizeof(sj));
		tap_ok(lbr_sched_new(4, &s) == 0, "a scheduler with 4 tasks for the stack checks");
		lbr_sched_run(s, stack_probe, sj, sizeof(sj[0]), 4);
		for (ok = 1, i = 0; i < 4; i++)
			ok &= sj[i].guarded;
		tap_ok(ok,
		       "every task's stack has an inaccessible mapping right below it (%d %d %d %d)",
		       sj[0].guarded, sj[1].guarded, sj[2].guarded, sj[3].guarded);
		/* Each its own writable mapping: without the guard pages two
		 * neighbouring stacks would be one. */
		for (i = 0; i < 4; i++)
			for (k = i + 1; k < 4; k++)
				apart &= sj[i].stack && sj[i].stack != sj[k].stack;
		tap_ok(apart,
		       "the four tasks ran on four stacks, each a writable mapping of its own");
		/* (Above the last stack is whatever follows the region.) */
		tap_ok(sj[0].alone && !sj[1].alone && !sj[2].alone,
		       "the first job ran before the other stacks were made (%d %d %d)",
		       sj[0].alone, sj[1].alone, sj[2].alone);
		lbr_sched_free(s);
		s = NULL;
		for (i = 0; i < 4; i++)
			gone &= !find_map(sj[i].at, 0, &lo, &hi, perms);
		tap_ok(gone, "freeing the scheduler unmaps every task stack");
	}

	/* HTTP: HOLD requests must be in flight at once to be answered. */
	srv_fd = listen_local(&srv_port);
	if (srv_fd < 0 || pthread_create(&th, NULL, server_main, NULL) != 0) {
		perror("server");
		return 1;
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", srv_port);
	tap_ok(lbr_sched_new(HOLD, &s) == 0, "a scheduler with %d tasks", HOLD);
	for (i = 0; i < HOLD; i++)
		hj[i].url = url;
	lbr_sched_run(s, http_job, hj, sizeof(hj[0]), HOLD);
	for (ok = 1, i = 0; i < HOLD; i++)
		ok &= hj[i].rc == 0 && hj[i].status == 200 && !strcmp(hj[i].body, "6");
	tap_ok(ok, "%d requests were in flight together (answers: '%s' ... rc %d %s)", HOLD,
	       hj[0].body, hj[0].rc, hj[0].err);
	tap_is_int(__atomic_load_n(&srv_accepted, __ATOMIC_ACQUIRE), HOLD,
		   "one connection per request in flight");
	lbr_sched_run(s, http_job, hj, sizeof(hj[0]), HOLD);
	for (ok = 1, i = 0; i < HOLD; i++)
		ok &= hj[i].rc == 0 && !strcmp(hj[i].body, "6");
	tap_ok(ok, "a second batch is answered too");
	tap_is_int(__atomic_load_n(&srv_accepted, __ATOMIC_ACQUIRE), HOLD,
		   "the second batch reuses the connections of the first");

	/* A host name goes through libcurl's resolver inside the loop. */
	{
		char lurl[128];

		snprintf(lurl, sizeof(lurl), "http://localhost:%d/y", srv_port);
		for (i = 0; i < HOLD; i++)
			hj[i].url = lurl;
		lbr_sched_run(s, http_job, hj, sizeof(hj[0]), HOLD);
		for (ok = 1, i = 0; i < HOLD; i++)
			ok &= hj[i].rc == 0 && !strcmp(hj[i].body, "6");
		tap_ok(ok, "requests to 'localhost' are resolved and in flight together (rc %d %s)",
		       hj[0].rc, hj[0].err);
	}

	/* A refused connection is a transport error, reported to its task. */
	{
		int port, fd = listen_local(&port);

		close(fd);
		snprintf(refused_url, sizeof(refused_url), "http://127.0.0.1:%d/", port);
		hj[0].url = refused_url;
		lbr_sched_run(s, http_job, hj, sizeof(hj[0]), 1);
		tap_ok(hj[0].rc == LBR_ETRANSPORT && strstr(hj[0].err, "onnect"),
		       "connection refused: rc %d, '%s'", hj[0].rc, hj[0].err);
	}
	lbr_sched_free(s);
	__atomic_store_n(&srv_stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	close(srv_fd);
	lbr_http_global_cleanup();
	return tap_done();
}

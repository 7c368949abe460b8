/*
 * The executor's task implementation: N cooperative tasks on the calling
 * thread (sched.c), behind the interface of exec.h.
 */
#include "config.h"

#include <stdlib.h>

#include "agent/error.h"
#include "agent/exec.h"
#include "agent/log.h"
#include "agent/sched.h"

struct exec_tasks {
	struct lbr_exec base;
	struct lbr_sched *s;
};

static void tasks_run(struct lbr_exec *x, void (*fn)(void *), void *args, size_t argsz, size_t n)
{
	struct lbr_sched *s = ((struct exec_tasks *)x)->s;
	unsigned opened0, taken0, opened, taken;

	lbr_sched_warm_stats(s, &opened0, &taken0);
	lbr_sched_run(s, fn, args, argsz, n);
	lbr_sched_warm_stats(s, &opened, &taken);
	if (opened != opened0)
		lbr_debug(
			"executor: %u connection(s) opened while a provider's first call was in flight, %u used",
			opened - opened0, taken - taken0);
}

static void tasks_free(struct lbr_exec *x)
{
	struct exec_tasks *t = (struct exec_tasks *)x;

	lbr_sched_free(t->s);
	free(t);
}

static const struct lbr_exec_ops tasks_ops = {
	.name = "cooperative tasks on one thread",
	.run = tasks_run,
	.free = tasks_free,
};

int lbr_exec_tasks_new(unsigned n, struct lbr_exec **out)
{
	struct exec_tasks *t = calloc(1, sizeof(*t));

	if (!t)
		return LBR_ENOMEM;
	if (lbr_sched_new(n, &t->s) < 0) {
		free(t);
		return LBR_ENOMEM;
	}
	t->base.ops = &tasks_ops;
	t->base.n = n;
	*out = &t->base;
	return 0;
}

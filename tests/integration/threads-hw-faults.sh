#!/bin/sh
# hw-faults.sh again, with a thread per call instead of cooperative tasks: the
# executor must not change what the agent does.
LBRECONCILE_EXECUTOR=threads
export LBRECONCILE_EXECUTOR
exec "$top_srcdir/tests/integration/hw-faults.sh"

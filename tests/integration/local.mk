# Integration tests: shell scripts (TAP) that run the agent against the
# fake cloud.  Each group lives in its own fragment.
include %D%/hw.mk
include %D%/uc.mk
include %D%/core.mk
include %D%/rel.mk
include %D%/member.mk

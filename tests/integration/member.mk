# Membership beyond removal: creation and weights (make before break),
# ownership and protection, the Huawei v3 API, the plugin ABI seen from
# the engine.
MEMBER_ITESTS = \
	%D%/create-weights.sh \
	%D%/ownership.sh \
	%D%/hw-v3.sh \
	%D%/abi.sh \
	%D%/fencing.sh \
	%D%/audit-spool.sh \
	%D%/uc-create.sh \
	%D%/etcd-tls.sh

TESTS += $(MEMBER_ITESTS)
EXTRA_DIST += $(MEMBER_ITESTS)

# Huawei integration tests (issue 2, acceptance 7-11).  Each script starts
# its own fake cloud; hw-lib.sh holds helpers shared by these scripts and
# tests/fixtures/ini/ the bad configurations used by cfg-errors.sh.
HW_ITESTS = \
	%D%/hw-converge.sh \
	%D%/hw-paging.sh \
	%D%/hw-projects.sh \
	%D%/hw-faults.sh \
	%D%/hw-auth.sh \
	%D%/guards.sh \
	%D%/drift.sh \
	%D%/cfg-errors.sh \
	%D%/state.sh

TESTS += $(HW_ITESTS)
EXTRA_DIST += $(HW_ITESTS) %D%/hw-lib.sh \
	tests/fixtures/ini/good.ini \
	tests/fixtures/ini/unknown-section.ini \
	tests/fixtures/ini/unknown-key-agent.ini \
	tests/fixtures/ini/unknown-key-provider.ini \
	tests/fixtures/ini/unknown-key-pool.ini \
	tests/fixtures/ini/duplicate-pool.ini \
	tests/fixtures/ini/duplicate-pool-apart.ini \
	tests/fixtures/ini/bad-address.ini \
	tests/fixtures/ini/bad-port.ini \
	tests/fixtures/ini/ipv6-no-brackets.ini \
	tests/fixtures/ini/unknown-provider.ini \
	tests/fixtures/ini/missing-plugin.ini \
	tests/fixtures/ini/long-line.ini \
	tests/fixtures/ini/env-unset.ini \
	tests/fixtures/ini/file-missing.ini \
	tests/fixtures/ini/bad-parallelism.ini \
	tests/fixtures/ini/bad-max-delete.ini \
	tests/fixtures/ini/duplicate-member.ini \
	tests/fixtures/ini/http-nonloopback.ini \
	tests/fixtures/ini/key-outside-section.ini \
	tests/fixtures/ini/bad-member-attr.ini \
	tests/fixtures/ini/dup-member-attr.ini \
	tests/fixtures/ini/bad-protect.ini \
	tests/fixtures/ini/bad-prune.ini \
	tests/fixtures/ini/etcd-no-endpoint.ini \
	tests/fixtures/ini/etcd-port-zero.ini \
	tests/fixtures/ini/etcd-port-big.ini \
	tests/fixtures/ini/etcd-empty-endpoint.ini \
	tests/fixtures/ini/etcd-no-prefix.ini \
	tests/fixtures/ini/timeout-vs-ttl.ini \
	tests/fixtures/ini/cred-unset.ini

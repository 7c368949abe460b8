# Huawei integration tests (issue 2, acceptance 7-11).  Each script starts
# its own fake cloud; hw-lib.sh holds helpers shared by these scripts.
HW_ITESTS = \
	%D%/hw-converge.sh

TESTS += $(HW_ITESTS)
EXTRA_DIST += $(HW_ITESTS) %D%/hw-lib.sh

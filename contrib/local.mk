# contrib: systemd units, examples, man pages
#
# The man pages are installed by `make install`; the units, the cron and
# GitOps examples and the example configs are shipped in the tarball and
# installed by the Debian packaging (debian/lbreconcile.install), since
# where they belong differs between distributions.
dist_man_MANS += %D%/lbreconcile.1 %D%/lbreconcile.ini.5

EXTRA_DIST += \
	%D%/examples/huawei.ini \
	%D%/examples/surfercloud.ini \
	%D%/examples/mixed.ini \
	%D%/systemd/lbreconcile.service \
	%D%/systemd/lbreconcile-apply.service \
	%D%/systemd/lbreconcile-apply.timer \
	%D%/systemd/lbreconcile.ini \
	%D%/cron/lbreconcile \
	%D%/gitops/lbreconcile-ci.sh \
	%D%/gitops/gitlab-ci.yml \
	%D%/deb-check.sh

# Packaging skeleton, so that a release tarball can build a .deb too.
EXTRA_DIST += \
	debian/changelog \
	debian/control \
	debian/copyright \
	debian/rules \
	debian/source/format \
	debian/lbreconcile.dirs \
	debian/lbreconcile.install \
	debian/lbreconcile.docs \
	debian/lbreconcile.examples

# Checks the man pages, units and examples against the sources.
TESTS += tests/integration/contrib.sh
EXTRA_DIST += tests/integration/contrib.sh

# contrib: systemd units, examples, man pages
#
# The man pages are installed by `make install`; the units, the cron and
# GitOps examples and the example configs are shipped in the tarball and
# installed by the Debian packaging (debian/lbreconcile.install), since
# where they belong differs between distributions.
dist_man_MANS += %D%/lbreconcile.1 %D%/lbreconcile.ini.5

# JSON Schema of every JSON document and event (lbreconcile(1), JSON
# OUTPUT), for consumers to validate against.
schemadir = $(pkgdatadir)/schema
dist_schema_DATA = \
	%D%/schema/defs.json \
	%D%/schema/plan.json \
	%D%/schema/drift.json \
	%D%/schema/event.json \
	%D%/schema/event-observe.json \
	%D%/schema/event-plan.json \
	%D%/schema/event-action.json \
	%D%/schema/event-retry.json \
	%D%/schema/event-summary.json \
	%D%/schema/providers.json \
	%D%/schema/version.json \
	%D%/schema/validate.json \
	%D%/schema/state-list.json \
	%D%/schema/state-unlock.json

# Bash completion, where bash-completion loads it on demand: its
# completionsdir is $(datadir)/bash-completion/completions (what
# `pkg-config --variable=completionsdir bash-completion` names on Debian),
# kept under the prefix so that `make distcheck` installs nowhere else.
bashcompletiondir = $(datadir)/bash-completion/completions
bashcompletion_DATA = %D%/completion/lbreconcile

# The file is kept as lbreconcile.bash in the sources (editors, shellcheck)
# and installed under the command's name, which bash-completion looks for.
%D%/completion/lbreconcile: %D%/completion/lbreconcile.bash
	$(AM_V_GEN)$(MKDIR_P) $(@D) && cp $(srcdir)/%D%/completion/lbreconcile.bash $@
CLEANFILES += %D%/completion/lbreconcile
EXTRA_DIST += %D%/completion/lbreconcile.bash

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
	%D%/deb-check.sh \
	LICENSE \
	tests/validate-json.py

# Packaging skeleton, so that a release tarball can build a .deb too.
EXTRA_DIST += \
	debian/changelog \
	debian/control \
	debian/copyright \
	debian/rules \
	debian/source/format \
	debian/source/lintian-overrides \
	debian/lbreconcile.lintian-overrides \
	debian/lbreconcile.dirs \
	debian/lbreconcile.install \
	debian/lbreconcile.docs \
	debian/lbreconcile.examples \
	debian/lbreconcile-dev.install

# Checks the man pages, units and examples against the sources.
TESTS += tests/integration/contrib.sh
EXTRA_DIST += tests/integration/contrib.sh

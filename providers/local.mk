# Provider plugins.  Each plugin owns its own fragment; common/ holds
# header-only helpers both include.
noinst_HEADERS += %D%/common/plugin-util.h
include %D%/huaweicloud/local.mk
include %D%/ucloud/local.mk

# Provider plugins.  Each plugin owns its own fragment.
include %D%/huaweicloud/local.mk
include %D%/ucloud/local.mk

#include "config.h"

#include "agent/error.h"

const char *lbr_strerror(int err)
{
	switch (err) {
	case LBR_OK:
		return "success";
	case LBR_ERR:
		return "failed";
	case LBR_ENOMEM:
		return "out of memory";
	case LBR_EINVAL:
		return "invalid input";
	case LBR_EIO:
		return "input/output error";
	case LBR_ELOCKED:
		return "state lock is held by someone else";
	case LBR_ENOENT:
		return "not found";
	case LBR_ECORRUPT:
		return "corrupt file";
	case LBR_EFOREIGN:
		return "state belongs to another lineage";
	case LBR_EAUTH:
		return "authentication failed";
	case LBR_EREFUSED:
		return "refused by a safety guard";
	case LBR_ECANCELED:
		return "canceled";
	case LBR_ETIMEDOUT:
		return "timed out";
	case LBR_EFENCED:
		return "state lock was lost";
	}
	return "unknown error";
}

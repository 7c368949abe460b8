#include "config.h"

#include "agent/error.h"

/* One table of names, the one plugins see in the ABI header. */
const char *lbr_strerror(int err)
{
	return lbr_provider_strerror(err);
}

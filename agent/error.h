/*
 * Error codes shared by every module of the core.  The codes themselves
 * are part of the plugin ABI (<lbreconcile/provider.h>), so that plugins
 * and the core speak one set; lbr_strerror() names them.
 */
#ifndef LBR_ERROR_H
#define LBR_ERROR_H

#include "lbreconcile/provider.h"

/* Static description of an LBR_E* code. */
const char *lbr_strerror(int err);

#endif

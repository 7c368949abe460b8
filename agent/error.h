/*
 * Error codes shared by every module of the core.  Functions that can fail
 * return 0 or one of these negative values; lbr_strerror() names them.
 */
#ifndef LBR_ERROR_H
#define LBR_ERROR_H

enum lbr_err {
	LBR_OK = 0,
	LBR_ERR = -1,        /* generic failure, already reported */
	LBR_ENOMEM = -2,     /* out of memory */
	LBR_EINVAL = -3,     /* invalid input (config, state, response) */
	LBR_EIO = -4,        /* file or network I/O failure */
	LBR_ELOCKED = -5,    /* the state lock is held by someone else */
	LBR_ENOENT = -6,     /* no such file / object */
	LBR_ECORRUPT = -7,   /* a file could not be parsed */
	LBR_EFOREIGN = -8,   /* state belongs to another lineage */
	LBR_EAUTH = -9,      /* credentials rejected */
	LBR_EREFUSED = -10,  /* refused by a safety guard */
	LBR_ECANCELED = -11, /* stopped by a signal or shutdown */
	LBR_ETIMEDOUT = -12, /* deadline passed */
	LBR_EFENCED = -13,   /* lost the lock before writing (etcd fencing) */
};

/* Static description of an LBR_E* code. */
const char *lbr_strerror(int err);

#endif

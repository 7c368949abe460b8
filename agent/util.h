/*
 * Small helpers shared by the core: checked allocation, strings, member
 * addresses, ids and time.
 */
#ifndef LBR_UTIL_H
#define LBR_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define LBR_ID_MAX 128
#define LBR_ADDR_MAX 46 /* INET6_ADDRSTRLEN */

/* strdup that returns NULL for NULL. */
char *lbr_strdup(const char *s);
/* malloc'd printf; NULL on OOM. */
char *lbr_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Grow *arr (element size esz) so that it can hold at least n+1 items.
 * 0 or LBR_ENOMEM. */
int lbr_grow(void **arr, size_t *cap, size_t n, size_t esz);
/* Wipe then free a secret string.  NULL is a no-op. */
void lbr_secret_free(char *s);
/* Fault in some `bytes` (1 to 32 MiB) of heap at once and keep that much
 * free heap from then on instead of giving it back to the kernel (for a
 * process that makes one pass: the settings stay).  On a
 * virtual machine a page fault costs some 10 us where populating a page
 * costs 0.6 us, and a pass over 5,000 members touches ~8 MiB of fresh
 * heap on the thread that runs every call.  A no-op where the kernel or
 * the C library cannot do it (MADV_POPULATE_WRITE, Linux 5.14). */
void lbr_heap_prefault(size_t bytes);

/* 1 when s matches [A-Za-z0-9_-]{1,128}: the only ids the core will put
 * into a request path or parameter. */
int lbr_id_valid(const char *s);
/* 1 when s matches [A-Za-z0-9_.-]{1,64} (section names). */
int lbr_name_valid(const char *s);

/* Canonicalise an IPv4/IPv6 address text into out (LBR_ADDR_MAX bytes).
 * 0, or LBR_EINVAL. */
int lbr_addr_canon(const char *in, char *out);
/* Parse "A.B.C.D:PORT" or "[V6]:PORT" into canonical address + port.
 * 0 or LBR_EINVAL with a reason in err. */
int lbr_addrport_parse(const char *in, char *addr, unsigned *port, char *err, size_t errlen);
/* Format address + port the way users write it ("[v6]:port" for IPv6). */
void lbr_addrport_fmt(const char *addr, unsigned port, char *out, size_t len);

/* 1 when `host` (a URL's host part, IPv6 with or without brackets) is a
 * loopback address: 127.0.0.0/8, ::1, or exactly "localhost". */
int lbr_host_is_loopback(const char *host);
/* The same for the host of an http(s) URL. */
int lbr_url_is_loopback(const char *url);

/* Monotonic clock, in milliseconds and in microseconds. */
uint64_t lbr_mono_ms(void);
uint64_t lbr_mono_us(void);
/* Sleep this thread, returning early (1) when *stop becomes non-zero.
 * Not for code that may run in a task: use lbr_exec_sleep_ms there. */
int lbr_sleep_ms(uint64_t ms, volatile int *stop);
/* RFC 3339 UTC of t into out (>= 21 bytes). */
void lbr_time_fmt(int64_t t, char *out, size_t len);
/* Uniform random double in [0,1), thread-safe. */
double lbr_random(void);

#endif

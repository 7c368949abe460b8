/*
 * Reading UCloud API responses (json-c is used only here and in ucloud.c).
 */
#ifndef LBR_UCPARSE_H
#define LBR_UCPARSE_H

#include <stddef.h>

#include "lbreconcile/provider.h"

struct json_object;

/*
 * Parse a response body and read its common envelope.
 * body/len: the HTTP body (need not be NUL-terminated).
 * On success *root receives the parsed document (the caller releases it
 * with json_object_put()), *retcode the RetCode (accepted as a JSON number
 * or as a string holding a decimal integer, since the gateway has been
 * seen to quote it) and msg the Message, truncated to msglen ("" when
 * absent).
 * Returns 0; LBR_ECORRUPT when the body is not one complete JSON object
 * (truncated, HTML error page, ...): worth retrying; LBR_EINVAL when it is
 * JSON but has no usable RetCode; LBR_ENOMEM.  *root is NULL on failure.
 */
int lbr_uc_parse_envelope(const char *body, size_t len, struct json_object **root, long *retcode,
			  char *msg, size_t msglen);

/*
 * Turn a successful DescribeVServer response into members and rules of
 * `obs`, through host->obs_add_member() and host->obs_add_rule().
 * Each backend is reported with its BackendId as id, PrivateIP and Port,
 * Weight and Enabled (-1 when absent), ResourceName as name, ResourceId as
 * instance_id (NULL unless it matches [A-Za-z0-9_-]{1,128}) and type "ip"
 * for ResourceType IP, "instance" for any other ResourceType.
 * root: the document from lbr_uc_parse_envelope() (borrowed).
 * ulb_id/vserver_id: what was asked for.
 * The whole response is checked before anything is added to `obs`, so a
 * response that is rejected adds nothing.
 * next (next_len bytes) is set to "": the VServer's BackendSet and
 * PolicySet are not paged, so the page holding it is the last.
 * Returns 0; LBR_ENOENT when the VServer is absent from DataSet (an empty
 * DataSet included); LBR_EINVAL when a required field is missing or
 * malformed, or when the host rejected a value; LBR_ENOMEM.  Whenever it
 * fails, err (errlen bytes) says why in one line.
 */
int lbr_uc_parse_vserver(const struct lbr_host *host, struct lbr_obs *obs, struct json_object *root,
			 const char *ulb_id, const char *vserver_id, char *next, size_t next_len,
			 char *err, size_t errlen);

#endif

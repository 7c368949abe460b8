/*
 * Reading UCloud API responses: the RetCode envelope and DescribeVServer.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/provcommon.h"
#include "lbreconcile/provider.h"
#include "ucparse.h"

/* Read an integer field that UCloud sends as a JSON number but that
 * tolerant readers also accept as a decimal string.  Returns 1 when
 * absent (or null), 0 with *out set, -1 when present but not an integer. */
static int get_int(struct json_object *obj, const char *key, long long *out)
{
	struct json_object *v;
	const char *s;
	char *end;

	if (!json_object_object_get_ex(obj, key, &v) || !v)
		return 1;
	switch (json_object_get_type(v)) {
	case json_type_int:
		errno = 0;
		*out = (long long)json_object_get_int64(v);
		/* json-c saturates values beyond int64 and sets errno. */
		return errno ? -1 : 0;
	case json_type_string:
		s = json_object_get_string(v);
		if (!*s)
			return -1;
		errno = 0;
		*out = strtoll(s, &end, 10);
		return (errno || *end) ? -1 : 0;
	default: return -1;
	}
}

/* A string field, or NULL when absent, null or not a string. */
static const char *get_str(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !v ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* An array field, or NULL. *present tells absent from not-an-array. */
static struct json_object *get_array(struct json_object *obj, const char *key, int *present)
{
	struct json_object *v;

	*present = json_object_object_get_ex(obj, key, &v) && v;
	if (!*present || !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

int lbr_uc_parse_envelope(const char *body, size_t len, struct json_object **root, long *retcode,
			  char *msg, size_t msglen)
{
	int r = LBR_ENOMEM;
	struct json_tokener *tok = NULL;
	struct json_object *doc = NULL;
	const char *m;
	long long rc;
	size_t used, i;

	*root = NULL;
	*retcode = 0;
	if (msglen)
		msg[0] = '\0';

	tok = json_tokener_new();
	if (!tok)
		goto out;
	r = LBR_ECORRUPT;
	if (!body || !len || len > (size_t)INT32_MAX)
		goto out;
	doc = json_tokener_parse_ex(tok, body, (int)len);
	/* A truncated body leaves the tokener waiting for more input
	 * (json_tokener_continue): that is a corrupt body, not a result. */
	if (!doc || json_tokener_get_error(tok) != json_tokener_success)
		goto out;
#if JSON_C_VERSION_NUM >= ((0 << 16) | (15 << 8) | 0)
	used = json_tokener_get_parse_end(tok);
#else
	used = (size_t)tok->char_offset;
#endif
	for (i = used; i < len; i++)
		if (body[i] != ' ' && body[i] != '\n' && body[i] != '\r' && body[i] != '\t' &&
		    body[i] != '\0')
			goto out;
	if (!json_object_is_type(doc, json_type_object))
		goto out;

	r = LBR_EINVAL;
	if (get_int(doc, "RetCode", &rc) != 0 || rc < -2147483647 || rc > 2147483647)
		goto out;
	*retcode = (long)rc;
	m = get_str(doc, "Message");
	if (m && msglen)
		snprintf(msg, msglen, "%s", m);
	*root = doc;
	doc = NULL; /* transferred */
	r = 0;
out:
	json_object_put(doc);
	if (tok)
		json_tokener_free(tok);
	return r;
}

/* A Custom policy being converted into a struct lbr_rule_info. */
struct rule_tmp {
	struct lbr_rule_info info;
	char *label;
	const char **ids;
	struct lbr_kv attrs[4];
	char prio[32];
};

/* Read one policy.  Returns 0, 1 for a Default policy (skipped), or a
 * negative code with err set. */
static int read_policy(struct json_object *pol, size_t idx, struct rule_tmp *rt, char *err,
		       size_t errlen)
{
	int r = LBR_EINVAL, present, n;
	const char *ptype, *id, *type, *match, *mode;
	struct json_object *bs;
	long long prio;
	size_t i, nb;

	if (!json_object_is_type(pol, json_type_object)) {
		snprintf(err, errlen, "PolicySet[%zu] is not an object", idx);
		goto out;
	}
	ptype = get_str(pol, "PolicyType");
	id = get_str(pol, "PolicyId");
	/* The Default policy follows every backend of the VServer by itself;
	 * only Custom policies hold explicit lists we must maintain.  Its
	 * PolicyId is empty (reference §3.3), so a policy without a type and
	 * without an id is the Default one too. */
	if (ptype && strcmp(ptype, "Default") == 0)
		return 1;
	if ((!ptype || !*ptype) && (!id || !*id))
		return 1;
	if (!id || !*id) {
		snprintf(err, errlen, "PolicySet[%zu] has no PolicyId", idx);
		goto out;
	}
	type = get_str(pol, "Type");
	match = get_str(pol, "Match");
	mode = get_str(pol, "DomainMatchMode");

	n = 0;
	if (type && *type)
		rt->attrs[n++] = (struct lbr_kv){ "Type", type };
	if (match && *match)
		rt->attrs[n++] = (struct lbr_kv){ "Match", match };
	if (mode && *mode)
		rt->attrs[n++] = (struct lbr_kv){ "DomainMatchMode", mode };
	/* Re-sent by UpdatePolicy only when it is one UpdatePolicy accepts
	 * (1-9999); the 0 a Domain policy reports is left out, which keeps the
	 * policy's priority as it is. */
	switch (get_int(pol, "PolicyPriority", &prio)) {
	case 0:
		if (prio >= 1 && prio <= 9999) {
			snprintf(rt->prio, sizeof(rt->prio), "%lld", prio);
			rt->attrs[n++] = (struct lbr_kv){ "PolicyPriority", rt->prio };
		}
		break;
	case 1: break;
	default: snprintf(err, errlen, "policy %s has an invalid PolicyPriority", id); goto out;
	}

	bs = get_array(pol, "BackendSet", &present);
	if (present && !bs) {
		snprintf(err, errlen, "policy %s: BackendSet is not an array", id);
		goto out;
	}
	/* An absent list is read as empty: such a policy then protects no
	 * backend here, and ReleaseBackend still refuses (4110 -> blocked)
	 * if the cloud thinks otherwise. */
	nb = bs ? json_object_array_length(bs) : 0;
	r = LBR_ENOMEM;
	rt->ids = calloc(nb ? nb : 1, sizeof(*rt->ids));
	if (!rt->ids)
		goto out;
	for (i = 0; i < nb; i++) {
		struct json_object *b = json_object_array_get_idx(bs, i);
		const char *bid = b ? get_str(b, "BackendId") : NULL;

		if (!bid || !*bid) {
			r = LBR_EINVAL;
			snprintf(err, errlen, "policy %s: BackendSet[%zu] has no BackendId", id, i);
			goto out;
		}
		rt->ids[i] = bid;
	}

	if (asprintf(&rt->label, "%s \"%s\" (%s)", type && *type ? type : "Policy",
		     match ? match : "", id) < 0) {
		rt->label = NULL;
		goto out;
	}
	rt->info.id = id;
	rt->info.label = rt->label;
	rt->info.never_empty = 1;
	rt->info.member_ids = rt->ids;
	rt->info.n_members = nb;
	rt->info.attrs = rt->attrs;
	rt->info.n_attrs = (size_t)n;
	r = 0;
out:
	return r;
}

/* Read one backend.  Returns 0 or LBR_EINVAL with err set. */
static int read_backend(struct json_object *b, size_t idx, struct lbr_member_info *m, char *err,
			size_t errlen)
{
	const char *rtype;
	long long v;
	int g;

	if (!json_object_is_type(b, json_type_object)) {
		snprintf(err, errlen, "BackendSet[%zu] is not an object", idx);
		return LBR_EINVAL;
	}
	m->id = get_str(b, "BackendId");
	if (!m->id || !*m->id) {
		snprintf(err, errlen, "BackendSet[%zu] has no BackendId", idx);
		return LBR_EINVAL;
	}
	m->address = get_str(b, "PrivateIP");
	if (!m->address || !*m->address) {
		snprintf(err, errlen, "backend %s has no PrivateIP", m->id);
		return LBR_EINVAL;
	}
	if (get_int(b, "Port", &v) != 0 || v < 1 || v > 65535) {
		snprintf(err, errlen, "backend %s has a missing or invalid Port", m->id);
		return LBR_EINVAL;
	}
	m->port = (unsigned)v;
	g = get_int(b, "Weight", &v);
	m->weight = (g == 0 && v >= 0 && v <= 1000000) ? (int)v : -1;
	g = get_int(b, "Enabled", &v);
	m->enabled = (g == 0 && (v == 0 || v == 1)) ? (int)v : -1;
	/* The attached resource, for ownership and `protect = name:...`.
	 * These are descriptions, not keys: an odd value is dropped rather
	 * than failing the whole page. */
	m->name = get_str(b, "ResourceName");
	if (m->name && !*m->name)
		m->name = NULL;
	m->instance_id = get_str(b, "ResourceId");
	if (!lbr_pc_valid_id(m->instance_id, 128))
		m->instance_id = NULL;
	rtype = get_str(b, "ResourceType");
	if (rtype && strcmp(rtype, "IP") == 0)
		m->type = "ip";
	else if (rtype && *rtype)
		m->type = "instance";
	else
		m->type = NULL;
	return 0;
}

int lbr_uc_parse_vserver(const struct lbr_host *host, struct lbr_obs *obs, struct json_object *root,
			 const char *ulb_id, const char *vserver_id, char *next, size_t next_len,
			 char *err, size_t errlen)
{
	int r = LBR_EINVAL, present;
	struct json_object *ds, *vs = NULL, *bs, *ps;
	struct lbr_member_info *members = NULL;
	struct rule_tmp *rules = NULL;
	size_t nds, nb = 0, np = 0, nr = 0, i;
	long long total;

	if (next_len)
		next[0] = '\0';
	err[0] = '\0';

	ds = get_array(root, "DataSet", &present);
	if (!ds) {
		snprintf(err, errlen, "DescribeVServer response has no DataSet");
		goto out;
	}
	nds = json_object_array_length(ds);
	for (i = 0; i < nds; i++) {
		struct json_object *e = json_object_array_get_idx(ds, i);
		const char *id = e ? get_str(e, "VServerId") : NULL;

		if (!id) {
			snprintf(err, errlen, "DataSet[%zu] has no VServerId", i);
			goto out;
		}
		/* We asked for one VServer: anything else means the filter
		 * was not applied and this listing cannot be trusted. */
		if (strcmp(id, vserver_id) != 0 || vs) {
			snprintf(err, errlen, "DescribeVServer returned unexpected vserver %s", id);
			goto out;
		}
		vs = e;
	}
	if (!vs) {
		/* Never turn a missing VServer into an empty member list: the
		 * planner would read that as "remove nothing / all gone". */
		r = LBR_ENOENT;
		snprintf(err, errlen, "vserver %s not found in ulb %s", vserver_id, ulb_id);
		goto out;
	}

	/* Absent (an API that leaves out empty arrays) reads as no backends,
	 * as for a policy; present but not an array is refused. */
	bs = get_array(vs, "BackendSet", &present);
	if (present && !bs) {
		snprintf(err, errlen, "vserver %s: BackendSet is not an array", vserver_id);
		goto out;
	}
	nb = bs ? json_object_array_length(bs) : 0;
	r = LBR_ENOMEM;
	members = calloc(nb ? nb : 1, sizeof(*members));
	if (!members)
		goto out;
	for (i = 0; i < nb; i++) {
		r = read_backend(json_object_array_get_idx(bs, i), i, &members[i], err, errlen);
		if (r < 0)
			goto out;
	}

	ps = get_array(vs, "PolicySet", &present);
	if (present && !ps) {
		r = LBR_EINVAL;
		snprintf(err, errlen, "vserver %s: PolicySet is not an array", vserver_id);
		goto out;
	}
	np = ps ? json_object_array_length(ps) : 0;
	r = LBR_ENOMEM;
	rules = calloc(np ? np : 1, sizeof(*rules));
	if (!rules)
		goto out;
	for (i = 0; i < np; i++) {
		r = read_policy(json_object_array_get_idx(ps, i), i, &rules[nr], err, errlen);
		if (r < 0) {
			nr++; /* so its partial allocations are freed */
			goto out;
		}
		if (r == 0)
			nr++;
	}

	/* The VServer we asked for is here, and its BackendSet and PolicySet
	 * are not paged (reference §3.3): there is never a next page, whatever
	 * TotalCount counts (an API may count every VServer of the ULB). */
	r = LBR_EINVAL;
	if (get_int(root, "TotalCount", &total) < 0) {
		snprintf(err, errlen, "DescribeVServer TotalCount is invalid");
		goto out;
	}

	for (i = 0; i < nb; i++) {
		if (host->obs_add_member(obs, &members[i]) < 0) {
			snprintf(err, errlen, "backend %s (%s:%u) rejected", members[i].id,
				 members[i].address, members[i].port);
			goto out;
		}
	}
	for (i = 0; i < nr; i++) {
		if (host->obs_add_rule(obs, &rules[i].info) < 0) {
			snprintf(err, errlen, "policy %s rejected", rules[i].info.id);
			goto out;
		}
	}
	r = 0;
out:
	if (r < 0 && next_len)
		next[0] = '\0';
	for (i = 0; rules && i < nr; i++) {
		free(rules[i].label);
		free(rules[i].ids);
	}
	free(rules);
	free(members);
	return r;
}

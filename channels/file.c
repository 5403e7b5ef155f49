/*
 * channels/file.c - the "file" driver: every message appended as one
 * JSON line to a file, for development and the demo (what would be sent
 * is there to read).  Config:
 *
 *   - name: outbox-file
 *     type: file
 *     path: outbox.log        # relative to the data directory
 *     fsync: true             # sync after each batch (default true)
 *     addr: phone             # what it stands in for: phone, email,
 *                             # wecom, dingtalk, telegram, wechat or
 *                             # device (default: phone)
 *
 * A message written (and synced) is reported sent and delivered: the file
 * is the device.
 */
#include "channels/channel.h"
#include "config/cfg.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct qmsg {
	int64_t id;
	char *line;		/* JSON, with newline */
};

struct file_priv {
	char *path;
	int fsync;
	int fd;
	struct qmsg *q;
	size_t nq, aq;
	char err[128];
};

static const char *const keys[] = {
	"name", "type", "path", "fsync", "addr",
	CHAN_ENGINE_KEYS,	/* the engine's (channel.h rules 9, 10) */
	NULL
};
static const char *const addrs[] = {
	"phone", "email", "wecom", "dingtalk", "telegram", "wechat", "device",
	NULL
};

static int
file_init(struct channel *ch, const struct cfg_node *cfg,
    struct diag_list *diags)
{
	struct file_priv *p = ch->priv;
	const char *path = "outbox.log";
	size_t n0 = diags->nerrors, len;
	int a = 0;

	p->fd = -1;
	p->fsync = 1;
	(void)cfg_check_keys(cfg, keys, diags);
	(void)cfg_get_str(cfg, "path", &path, diags);
	(void)cfg_get_bool(cfg, "fsync", &p->fsync, diags);
	if (cfg_get_enum(cfg, "addr", addrs, &a, diags) == 0)
		ch->addr = chan_addr_parse(addrs[a]);
	if (path[0] == '\0')
		(void)cfg_error(diags, cfg_node_get(cfg, "path"),
		    "path is empty");
	if (diags->nerrors > n0)
		return ENG_EINVAL;
	if (path[0] == '/' || ch->env->data_dir == NULL)
		p->path = strdup(path);
	else {
		len = strlen(ch->env->data_dir) + strlen(path) + 2;
		if ((p->path = malloc(len)) != NULL)
			(void)snprintf(p->path, len, "%s/%s",
			    ch->env->data_dir, path);
	}
	return p->path != NULL ? 0 : ENG_ENOMEM;
}

static int
file_send(struct channel *ch, const struct chan_msg *m, size_t n)
{
	struct file_priv *p = ch->priv;
	size_t i;

	for (i = 0; i < n; i++) {
		json_t *j;
		char *s, *line;
		size_t len;

		if (p->nq == p->aq) {
			size_t na = p->aq ? p->aq * 2 : 64;
			struct qmsg *nv;

			if (na > 100000)
				return ENG_ETEMP;
			if ((nv = realloc(p->q, na * sizeof(*nv))) == NULL)
				return ENG_ETEMP;
			p->q = nv;
			p->aq = na;
		}
		j = json_pack("{s:s,s:I,s:s?,s:s?,s:s?,s:i,s:s?,s:s?}",
		    "channel", ch->name, "delivery", (json_int_t)m[i].delivery_id,
		    "to", m[i].to, "subject", m[i].subject, "text", m[i].text,
		    "priority", m[i].priority, "ack_code", m[i].ack_code,
		    "ack_url", m[i].ack_url);
		if (j != NULL && m[i].payload != NULL)
			(void)json_object_set_new(j, "payload",
			    json_loads(m[i].payload, 0, NULL));
		s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
		json_decref(j);
		if (s == NULL)
			return ENG_ETEMP;
		len = strlen(s);
		if ((line = malloc(len + 2)) == NULL) {
			free(s);
			return ENG_ETEMP;
		}
		memcpy(line, s, len);
		line[len] = '\n';
		line[len + 1] = '\0';
		free(s);
		p->q[p->nq].id = m[i].delivery_id;
		p->q[p->nq].line = line;
		p->nq++;
	}
	return 0;
}

static void
report(struct channel *ch, int64_t id, enum chan_result r, const char *err)
{
	struct chan_report rep;

	memset(&rep, 0, sizeof(rep));
	rep.delivery_id = id;
	rep.result = r;
	rep.error = err;
	chan_report(ch, &rep);
}

static int64_t
file_poll(struct channel *ch, int64_t now_ms)
{
	struct file_priv *p = ch->priv;
	size_t i, done = 0;
	int ok = 1;

	(void)now_ms;
	if (p->nq == 0)
		return 1000;
	if (p->fd < 0) {
		p->fd = open(p->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		    0640);
		if (p->fd < 0) {
			(void)snprintf(p->err, sizeof(p->err), "open %s: %s",
			    p->path, strerror(errno));
			ok = 0;
		}
	}
	for (i = 0; ok && i < p->nq; i++) {
		size_t len = strlen(p->q[i].line);

		if (write(p->fd, p->q[i].line, len) != (ssize_t)len) {
			(void)snprintf(p->err, sizeof(p->err), "write %s: %s",
			    p->path, strerror(errno));
			ok = 0;
			break;
		}
		done = i + 1;
	}
	if (ok && p->fsync && fsync(p->fd) != 0) {
		(void)snprintf(p->err, sizeof(p->err), "fsync %s: %s", p->path,
		    strerror(errno));
		ok = 0;
		done = 0;
	}
	for (i = 0; i < p->nq; i++) {
		if (i < done) {
			report(ch, p->q[i].id, CHAN_R_SENT, NULL);
			report(ch, p->q[i].id, CHAN_R_DELIVERED, NULL);
		} else {
			report(ch, p->q[i].id, CHAN_R_RETRY, p->err);
		}
		free(p->q[i].line);
	}
	if (ok)
		p->err[0] = '\0';
	p->nq = 0;
	return ok ? 0 : 1000;
}

static void
file_health(const struct channel *ch, struct chan_health *h)
{
	const struct file_priv *p = ch->priv;

	memset(h, 0, sizeof(*h));
	h->up = p->err[0] == '\0';
	h->queued = p->nq;
	(void)snprintf(h->detail, sizeof(h->detail), "%s", p->err);
}

static void
file_shutdown(struct channel *ch)
{
	struct file_priv *p = ch->priv;
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nq; i++) {
		report(ch, p->q[i].id, CHAN_R_RETRY, "shut down");
		free(p->q[i].line);
	}
	free(p->q);
	p->q = NULL;
	p->nq = p->aq = 0;
	if (p->fd >= 0)
		(void)close(p->fd);
	p->fd = -1;
	free(p->path);
	p->path = NULL;
}

const struct channel_ops chan_file_ops = {
	.name = "file",
	.version = CHANNEL_OPS_V1,
	.priv_size = sizeof(struct file_priv),
	.caps = CHAN_CAP_PERSON | CHAN_CAP_AREA | CHAN_CAP_BATCH |
	    CHAN_CAP_RECEIPTS,
	.max_batch = 1000,
	.addr = CHAN_ADDR_PHONE,
	.init = file_init,
	.send = file_send,
	.poll = file_poll,
	.inbound = NULL,
	.health = file_health,
	.shutdown = file_shutdown,
};

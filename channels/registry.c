/*
 * channels/registry.c - the static table of channel drivers.
 */
#include "channels/channel.h"

#include <string.h>

static const struct channel_ops *const drivers[] = {
	&chan_exec_ops,
	&chan_file_ops,
	&chan_kannel_ops,
	&chan_mqtt_ops,
	&chan_sms_http_ops,
	&chan_smtp_ops,
	&chan_voice_http_ops,
	&chan_webhook_ops,
	NULL
};

const struct channel_ops *const *
chan_drivers(void)
{
	return drivers;
}

const struct channel_ops *
chan_find(const char *type)
{
	size_t i;

	if (type == NULL)
		return NULL;
	for (i = 0; drivers[i] != NULL; i++)
		if (strcmp(drivers[i]->name, type) == 0)
			return drivers[i];
	return NULL;
}

static const char *const addr_names[] = {
	NULL, "phone", "email", "wecom", "dingtalk", "telegram", "wechat",
	"device", NULL
};

const char *
chan_addr_name(enum chan_addr a)
{
	return a >= CHAN_ADDR_PHONE && a <= CHAN_ADDR_DEVICE ?
	    addr_names[a] : NULL;
}

enum chan_addr
chan_addr_parse(const char *s)
{
	int i;

	for (i = CHAN_ADDR_PHONE; s != NULL && i <= CHAN_ADDR_DEVICE; i++)
		if (strcmp(addr_names[i], s) == 0)
			return (enum chan_addr)i;
	return (enum chan_addr)0;
}

int
chan_phone_ok(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return 0;
	if (*s == '+')
		s++;
	for (; *s != '\0'; s++, n++)
		if (*s < '0' || *s > '9' || n >= 20)
			return 0;
	return n >= 3;
}

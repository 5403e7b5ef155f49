{# 即时通讯（钉钉、企业微信、飞书、Telegram 机器人）：纯文本，分行。 #}
{% if exercise %}
【演练】本消息为演练，非真实预警。
{% endif %}
{% if ack.reminder %}
【再次提醒】您尚未确认收到此预警。
{% endif %}
【{{ alert.sender_name }}】{{ alert.event }}{{ alert.colour | colour_zh }}预警{% if alert.msg_type == "Update" %}（更新）{% elif alert.msg_type == "Cancel" %}（解除）{% endif %}

{% if alert.headline %}
{{ alert.headline }}
{% endif %}
发布时间：{{ alert.sent | localtime("%Y年%-m月%-d日%H:%M") }}
{% if alert.msg_type != "Cancel" %}
{% if alert.onset %}
生效时间：{{ alert.onset | localtime("%Y年%-m月%-d日%H:%M") }}
{% endif %}
{% if alert.expires %}
有效期至：{{ alert.expires | localtime("%Y年%-m月%-d日%H:%M") }}
{% endif %}
{% if alert.areas %}
影响区域：{{ alert.areas | join("、") }}
{% endif %}
{% if alert.description %}

{{ alert.description }}
{% endif %}
{% if alert.instruction %}

防御指南：{{ alert.instruction }}
{% endif %}
{% endif %}
{% if region.name or responder.name %}

{% if responder.name %}{{ responder.name }}{% if responder.role %}（{{ responder.role }}）{% endif %}，{% endif %}{% if region.name %}请立即在{{ region.name }}传达落实。{% endif %}
{% endif %}
{% if ack.required %}
{% if ack.code %}
请回复“{{ ack.code }}”确认收到{% if ack.link %}，或点击 {{ ack.link }}{% endif %}。
{% elif ack.link %}
请点击 {{ ack.link }} 确认收到。
{% endif %}
{% endif %}

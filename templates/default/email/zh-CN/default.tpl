{# 电子邮件：section subject 为主题，其余为正文（纯文本）。 #}
{% section subject %}
{% if exercise %}【演练】{% endif %}{% if ack.reminder %}【再次提醒】{% endif %}【{{ alert.sender_name }}】{{ alert.event }}{{ alert.colour | colour_zh }}预警{% if alert.msg_type == "Update" %}（更新）{% elif alert.msg_type == "Cancel" %}（解除）{% endif %}
{%- endsection -%}
{% if exercise %}
【演练】本邮件为演练，非真实预警。

{% endif %}
{% if responder.name %}
{{ responder.name }}{% if responder.role %}（{{ responder.role }}）{% endif %}：

{% endif %}
{% if alert.msg_type == "Cancel" %}
{{ alert.sender_name }}于{{ alert.sent | localtime("%Y年%-m月%-d日%H时%M分") }}解除{{ alert.event }}{{ alert.colour | colour_zh }}预警。
{% else %}
{{ alert.sender_name }}于{{ alert.sent | localtime("%Y年%-m月%-d日%H时%M分") }}{% if alert.msg_type == "Update" %}更新{% else %}发布{% endif %}{{ alert.event }}{{ alert.colour | colour_zh }}预警。
{% if alert.headline %}

{{ alert.headline }}
{% endif %}

预警级别：{{ alert.colour | colour_zh }}（{{ alert.severity | default("—") }}，{{ alert.urgency | default("—") }}）
{% if alert.onset %}
生效时间：{{ alert.onset | localtime("%Y年%-m月%-d日%H时%M分") }}
{% endif %}
{% if alert.expires %}
有效期至：{{ alert.expires | localtime("%Y年%-m月%-d日%H时%M分") }}
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
{% if region.name %}

请在{{ region.name }}立即传达，做好防范。
{% endif %}
{% endif %}
{% if ack.required %}

{% if ack.link %}
请点击以下链接确认收到：
{{ ack.link }}
{% endif %}
{% if ack.code %}
也可回复确认码：{{ ack.code }}
{% endif %}
{% endif %}

—— {{ alert.sender_name }}

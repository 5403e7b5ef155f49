{# Messaging apps (DingTalk, WeCom, Feishu, Telegram robots): plain text,
   several lines. #}
{% if exercise %}
[EXERCISE] This is a drill, not a real warning.
{% endif %}
{% if ack.reminder %}
[REMINDER] You have not yet confirmed this warning.
{% endif %}
[{{ alert.sender_name }}] {{ alert.colour | upper }} {{ alert.event_en | default(alert.event) }} warning{% if alert.msg_type == "Update" %} (update){% elif alert.msg_type == "Cancel" %} (CANCELLED){% endif %}

{% if alert.headline %}
{{ alert.headline }}
{% endif %}
Issued: {{ alert.sent | localtime("%Y-%m-%d %H:%M %Z") }}
{% if alert.msg_type != "Cancel" %}
{% if alert.onset %}
Onset: {{ alert.onset | localtime("%Y-%m-%d %H:%M") }}
{% endif %}
{% if alert.expires %}
Valid until: {{ alert.expires | localtime("%Y-%m-%d %H:%M") }}
{% endif %}
{% if alert.areas %}
Areas: {{ alert.areas | join(", ") }}
{% endif %}
{% if alert.description %}

{{ alert.description }}
{% endif %}
{% if alert.instruction %}

What to do: {{ alert.instruction }}
{% endif %}
{% endif %}
{% if responder.name %}

{{ responder.name }}{% if responder.role %} ({{ responder.role }}){% endif %}{% if region.name %}, please pass this on in {{ region.name }}{% endif %}.
{% endif %}
{% if ack.required %}
{% if ack.code %}
Reply "{{ ack.code }}" to confirm{% if ack.link %}, or open {{ ack.link }}{% endif %}.
{% elif ack.link %}
Confirm at {{ ack.link }}
{% endif %}
{% endif %}

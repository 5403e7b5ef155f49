{# E-mail: section "subject" is the subject; the rest is the plain-text
   body. #}
{% section subject %}
{% if exercise %}[EXERCISE] {% endif %}{% if ack.reminder %}[REMINDER] {% endif %}[{{ alert.sender_name }}] {{ alert.colour | upper }} {{ alert.event_en | default(alert.event) }} warning{% if alert.msg_type == "Update" %} (update){% elif alert.msg_type == "Cancel" %} (cancelled){% endif %}
{%- endsection -%}
{% if exercise %}
[EXERCISE] This message is a drill, not a real warning.

{% endif %}
{% if responder.name %}
{{ responder.name }}{% if responder.role %} ({{ responder.role }}){% endif %},

{% endif %}
{% if alert.msg_type == "Cancel" %}
{{ alert.sender_name }} cancelled the {{ alert.colour }} {{ alert.event_en | default(alert.event) }} warning at {{ alert.sent | localtime("%Y-%m-%d %H:%M %Z") }}.
{% else %}
{{ alert.sender_name }} {% if alert.msg_type == "Update" %}updated{% else %}issued{% endif %} {% if alert.colour == "orange" %}an{% else %}a{% endif %} {{ alert.colour }} {{ alert.event_en | default(alert.event) }} warning at {{ alert.sent | localtime("%Y-%m-%d %H:%M %Z") }}.
{% if alert.headline %}

{{ alert.headline }}
{% endif %}

Level: {{ alert.colour }} ({{ alert.severity | default("-") }}, {{ alert.urgency | default("-") }})
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
{% if region.name %}

Please pass this warning on in {{ region.name }} at once.
{% endif %}
{% endif %}
{% if ack.required %}

{% if ack.link %}
Please confirm receipt: {{ ack.link }}
{% endif %}
{% if ack.code %}
Or reply with the code {{ ack.code }}.
{% endif %}
{% endif %}

-- {{ alert.sender_name }}

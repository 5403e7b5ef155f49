{# max_segments: 3 #}
{# SMS: one run of text, as short as possible.  Exercises start with
   [EXERCISE].  Only alert.description is shortened to fit. #}
{% if exercise %}[EXERCISE] {% endif -%}
{% if ack.reminder %}[REMINDER] {% endif -%}
[{{ alert.sender_name }}]
{%- if alert.msg_type == "Cancel" %} {{ alert.event_en | default(alert.event) }} {{ alert.colour }} warning CANCELLED ({{ alert.sent | localtime("%-d %b %H:%M") }}).
{%- else %} {% if alert.msg_type == "Update" %}UPDATED {% endif %}{{ alert.colour | upper }} {{ alert.event_en | default(alert.event) }} warning ({{ alert.sent | localtime("%-d %b %H:%M") }}): {{ alert.description }}
  {%- if alert.instruction %} Advice: {{ alert.instruction }}{% endif -%}
  {%- if alert.expires %} Valid until {{ alert.expires | localtime("%-d %b %H:%M") }}.{% endif -%}
{%- endif -%}
{%- if ack.required -%}
  {%- if ack.code %} Reply {{ ack.code }} to confirm.{% elif ack.link %} Confirm: {{ ack.link }}{% endif -%}
{%- endif %}

{# Voice call script (TTS): no links, numbers as read, the ack code
   digit by digit.  Pressing 1 during the call is the answer (the
   voice gateway's key-press callback). #}
{% if exercise %}
[EXERCISE] This is a drill, not a real warning.
{% endif %}
{% if responder.name %}
Hello {{ responder.name }}.
{% endif %}
{% if ack.reminder %}
You have not yet confirmed the following warning. Please listen.
{% endif %}
{% if alert.msg_type == "Cancel" %}
{{ alert.sender_name }} has cancelled the {{ alert.colour }} {{ alert.event_en | default(alert.event) }} warning.
{% else %}
{{ alert.sender_name }} {% if alert.msg_type == "Update" %}has updated{% else %}has issued{% endif %} {% if alert.colour == "orange" %}an{% else %}a{% endif %} {{ alert.colour }} {{ alert.event_en | default(alert.event) }} warning, at {{ alert.sent | localtime("%-H:%M on %B %-d") }}.
{{ alert.description | strip_urls }}
{% if alert.instruction %}
{{ alert.instruction | strip_urls }}
{% endif %}
{% if region.name %}
Please pass this warning on in {{ region.name }} at once.
{% endif %}
{% endif %}
{% if ack.required and ack.code %}
To confirm, press 1. To confirm by text message, your code is {{ ack.code | digits }}.
{% endif %}
{% if exercise %}
This was an exercise.
{% endif %}

{# Loudspeaker script, read aloud: no links, numbers as words. #}
{% if exercise %}
[EXERCISE] This is a drill, not a real warning.
{% endif %}
{% if alert.msg_type == "Cancel" %}
Attention please: {{ alert.sender_name }} has cancelled the {{ alert.colour }} {{ alert.event_en | default(alert.event) }} warning.
{% else %}
Attention please, attention please: {{ alert.sender_name }} has issued {% if alert.colour == "orange" %}an{% else %}a{% endif %} {{ alert.colour }} {{ alert.event_en | default(alert.event) }} warning.
{{ alert.description | strip_urls | en_num }}
{% if alert.instruction %}
{{ alert.instruction | strip_urls | en_num }}
{% endif %}
Please tell your neighbours and take care.
{% endif %}
{% if exercise %}
This was an exercise.
{% endif %}

{# 语音电话脚本（TTS）：不含链接，数字按读法，确认码逐位读。
   通话中按 1 即为确认收到（语音网关的按键回调）。 #}
{% if exercise %}
【演练】这是一次演练，不是真实预警。
{% endif %}
{% if responder.name %}
{{ responder.name }}您好。
{% endif %}
{% if ack.reminder %}
您还没有确认收到以下预警，请注意收听。
{% endif %}
{% if alert.msg_type == "Cancel" %}
{{ alert.sender_name }}{{ alert.sent | localtime("%-m月%-d日%-H时%-M分") | zh_num }}解除{{ alert.event }}{{ alert.colour | colour_zh }}预警。
{% else %}
{{ alert.sender_name }}{{ alert.sent | localtime("%-m月%-d日%-H时%-M分") | zh_num }}{% if alert.msg_type == "Update" %}更新{% else %}发布{% endif %}{{ alert.event }}{{ alert.colour | colour_zh }}预警。
{{ alert.description | strip_urls | zh_num }}
{% if alert.instruction %}
{{ alert.instruction | strip_urls | zh_num }}
{% endif %}
{% if region.name %}
请立即在{{ region.name }}传达落实。
{% endif %}
{% endif %}
{% if ack.required and ack.code %}
确认收到请按1。如需回复短信，确认码是{{ ack.code | zh_digits }}。
{% endif %}
{% if exercise %}
以上为演练。
{% endif %}

{# 山洪：沟道、河边人员立即转移，重复两遍。 #}
{% if exercise %}
【演练】演练广播，不是真实预警。
{% endif %}
{% if alert.msg_type == "Cancel" %}
各位村民请注意：{{ alert.sender_name }}已解除山洪{{ alert.colour | colour_zh }}预警。
{% else %}
紧急通知，紧急通知！{{ alert.sender_name }}发布山洪{{ alert.colour | colour_zh }}预警。
{{ alert.description | strip_urls | zh_num }}
沟道、河边、低洼地带的群众请立即向高处转移，不要在河边停留，不要涉水过河！
{% if alert.instruction %}
{{ alert.instruction | strip_urls | zh_num }}
{% endif %}
再播一遍：沟道、河边、低洼地带的群众请立即向高处转移！
{% endif %}
{% if exercise %}
以上为演练广播。
{% endif %}

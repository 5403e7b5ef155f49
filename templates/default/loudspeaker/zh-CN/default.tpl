{# 村村响大喇叭广播稿：朗读用，不含链接，数字按读法，重要内容重复。 #}
{% if exercise %}
【演练】演练广播，不是真实预警。
{% endif %}
{% if alert.msg_type == "Cancel" %}
各位村民请注意：{{ alert.sender_name }}已解除{{ alert.event }}{{ alert.colour | colour_zh }}预警。
{% else %}
各位村民请注意，各位村民请注意：{{ alert.sender_name }}{{ alert.sent | localtime("%-m月%-d日%-H时%-M分") | zh_num }}{% if alert.msg_type == "Update" %}更新{% else %}发布{% endif %}{{ alert.event }}{{ alert.colour | colour_zh }}预警。
{{ alert.description | strip_urls | zh_num }}
{% if alert.instruction %}
{{ alert.instruction | strip_urls | zh_num }}
{% endif %}
请大家相互转告，做好防范。
{% endif %}
{% if exercise %}
以上为演练广播。
{% endif %}

{# max_segments: 3 #}
{# 短信：一条连续文字，尽量短。演练必须以【演练】开头。
   当超出条数时，只截短 alert.description。 #}
{% if exercise %}【演练】{% endif -%}
{% if ack.reminder %}【再次提醒】{% endif -%}
【{{ alert.sender_name }}】
{%- if alert.msg_type == "Cancel" -%}
  {{ alert.sender_name }}{{ alert.sent | localtime("%-m月%-d日%-H时%M分") }}解除{{ alert.event }}{{ alert.colour | colour_zh }}预警。
{%- else -%}
  {{ alert.sender_name }}{{ alert.sent | localtime("%-m月%-d日%-H时%M分") }}
  {%- if alert.msg_type == "Update" %}更新{% else %}发布{% endif -%}
  {{ alert.event }}{{ alert.colour | colour_zh }}预警：{{ alert.description }}
  {%- if alert.instruction %}防御指南：{{ alert.instruction }}{% endif -%}
  {%- if alert.expires %}有效至{{ alert.expires | localtime("%-m月%-d日%-H时%M分") }}。{% endif -%}
{%- endif -%}
{%- if ack.required -%}
  {%- if ack.code %}请回复{{ ack.code }}确认收到。{% elif ack.link %}请点击{{ ack.link }}确认收到。{% endif -%}
{%- endif %}

{# max_segments: 2 #}
{% if exercise and (alert.colour == "red" or alert.colour != "blue") %}【演练】{% elif x %}x{% else %}-{% endif -%}
  {{- alert.description -}} {{ ack.code | digits }}

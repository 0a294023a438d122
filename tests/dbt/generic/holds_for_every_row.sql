{#- A boolean expression every row satisfies (rows where it is null pass).
    Failing rows carry the row's key. -#}
{% test holds_for_every_row(model, expression, key, column_name=none) %}
select {{ key }} as failing_key
from {{ model }}
where not ({{ expression }})
{% endtest %}

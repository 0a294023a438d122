{#- The column holds one of the listed values (nulls pass unless not_null is
    also set). Failing rows carry the row's key and the bad value. -#}
{% test value_in(model, column_name, values, key) %}
select
    {{ key }} as failing_key,
    cast({{ column_name }} as {{ dbt.type_string() }}) as failing_value
from {{ model }}
where {{ column_name }} is not null
    and {{ column_name }} not in (
        {%- for v in values %}'{{ v }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    )
{% endtest %}

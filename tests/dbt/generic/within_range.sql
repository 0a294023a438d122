{#- The column lies in [min_value, max_value] (either bound optional; nulls
    pass). Failing rows carry the row's key and the bad value. -#}
{% test within_range(model, column_name, key, min_value=none, max_value=none) %}
select
    {{ key }} as failing_key,
    cast({{ column_name }} as {{ dbt.type_string() }}) as failing_value
from {{ model }}
where {{ column_name }} is not null
    and (
        {%- if min_value is not none %} {{ column_name }} < {{ min_value }}{% else %} 1 = 0{% endif %}
        or
        {%- if max_value is not none %} {{ column_name }} > {{ max_value }}{% else %} 1 = 0{% endif %}
    )
{% endtest %}

{#- Every non-null value exists in the referenced relation's field, optionally
    matching on more column pairs (e.g. product and plan_tier together).
    Failing rows carry the row's key and the unknown value. -#}
{% test references(model, column_name, to, field, key, also=none) %}
select
    child.{{ key }} as failing_key,
    cast(child.{{ column_name }} as {{ dbt.type_string() }}) as failing_value
from {{ model }} as child
where child.{{ column_name }} is not null
    and not exists (
        select 1
        from {{ to }} as parent
        where parent.{{ field }} = child.{{ column_name }}
        {%- for child_column, parent_column in (also or {}).items() %}
            and parent.{{ parent_column }} = child.{{ child_column }}
        {%- endfor %}
    )
{% endtest %}

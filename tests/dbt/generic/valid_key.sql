{#- A primary key: never null, never repeated. Failing rows name the key and why. -#}
{% test valid_key(model, column_name) %}
with keys as (
    select {{ column_name }} as failing_key, count(*) as occurrences
    from {{ model }}
    group by {{ column_name }}
)
select
    failing_key,
    case when failing_key is null then 'null key' else 'duplicate key' end as problem,
    occurrences
from keys
where failing_key is null or occurrences > 1
{% endtest %}

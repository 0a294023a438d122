{#- The model's grain: no two rows share these columns. -#}
{% test unique_combination(model, columns) %}
{%- set column_list = columns | join(', ') -%}
select {{ column_list }}, count(*) as occurrences
from {{ model }}
group by {{ column_list }}
having count(*) > 1
{% endtest %}

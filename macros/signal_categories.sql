{#- The 14 signal categories of triggers.md, in their published order. The
    prefix before the first underscore is the category (usage, outcome, org,
    buying); int_account_signals_<category> computes each group. -#}
{% macro signal_categories() -%}
    {{- return([
        'usage_approaching_limits', 'usage_adoption_velocity', 'usage_power_users', 'usage_multi_department',
        'outcome_achieved', 'outcome_feature_gap', 'outcome_healthy',
        'org_budget_cycle', 'org_new_department', 'org_exec_engagement_rising',
        'buying_pricing_interest', 'buying_feature_inquiry', 'buying_expansion_content', 'buying_new_stakeholders',
    ]) -}}
{%- endmacro %}

{#- The number of true signal categories of a row, as an integer expression. -#}
{% macro signal_count_expression(relation_alias=none) -%}
    {%- set prefix = relation_alias ~ '.' if relation_alias else '' -%}
    ({% for c in signal_categories() %}{{ as_int(prefix ~ c) }}{% if not loop.last %} + {% endif %}{% endfor %})
{%- endmacro %}


{#- signal_count is the number of the row's true signal categories. Failing
    rows carry the row's key and the stored count. -#}
{% test counts_signal_categories(model, column_name, key) %}
select
    {{ key }} as failing_key,
    {{ column_name }} as failing_value
from {{ model }}
where {{ column_name }} is null
    or {{ column_name }} <> {{ signal_count_expression() }}
{% endtest %}

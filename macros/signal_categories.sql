{#- The 14 signals of triggers.md, in their published order. The prefix
    before the first underscore is the signal's category (usage, outcome,
    org, buying); int_account_signals_<category> computes each group. -#}
{% macro account_signals() -%}
    {{- return([
        'usage_approaching_limits', 'usage_adoption_velocity', 'usage_power_users', 'usage_multi_department',
        'outcome_achieved', 'outcome_feature_gap', 'outcome_healthy',
        'org_budget_cycle', 'org_new_department', 'org_exec_engagement_rising',
        'buying_pricing_interest', 'buying_feature_inquiry', 'buying_expansion_content', 'buying_new_stakeholders',
    ]) -}}
{%- endmacro %}

{#- The four categories, in order: the prefixes of account_signals(). -#}
{% macro signal_category_names() -%}
    {%- set names = [] -%}
    {%- for s in account_signals() -%}
        {%- set category = s.split('_')[0] -%}
        {%- if category not in names %}{% do names.append(category) %}{% endif -%}
    {%- endfor -%}
    {{- return(names) -}}
{%- endmacro %}

{#- The number of the row's true signals, as an integer expression. -#}
{% macro signal_count_expression(relation_alias=none) -%}
    {%- set prefix = relation_alias ~ '.' if relation_alias else '' -%}
    ({% for c in account_signals() %}{{ as_int(prefix ~ c) }}{% if not loop.last %} + {% endif %}{% endfor %})
{%- endmacro %}

{#- The number of the four categories with at least one true signal, as an
    integer expression. -#}
{% macro signal_category_count_expression(relation_alias=none) -%}
    {%- set prefix = relation_alias ~ '.' if relation_alias else '' -%}
    {%- set terms = [] -%}
    {%- for category in signal_category_names() -%}
        {%- set members = [] -%}
        {%- for s in account_signals() if s.startswith(category ~ '_') %}{% do members.append(prefix ~ s) %}{% endfor -%}
        {%- do terms.append(as_int('(' ~ members | join(' or ') ~ ')')) -%}
    {%- endfor -%}
    ({{ terms | join(' + ') }})
{%- endmacro %}

{#- signal_count is the number of the row's true signals. Failing rows carry
    the row's key and the stored count. -#}
{% test counts_signal_categories(model, column_name, key) %}
select
    {{ key }} as failing_key,
    {{ column_name }} as failing_value
from {{ model }}
where {{ column_name }} is null
    or {{ column_name }} <> {{ signal_count_expression() }}
{% endtest %}

{#- signal_categories is the number of categories with a true signal.
    Failing rows carry the row's key and the stored count. -#}
{% test counts_categories_with_a_signal(model, column_name, key) %}
select
    {{ key }} as failing_key,
    {{ column_name }} as failing_value
from {{ model }}
where {{ column_name }} is null
    or {{ column_name }} <> {{ signal_category_count_expression() }}
{% endtest %}

{#- Division that returns null instead of failing on a zero denominator; both
    sides cast to float first, because 7/2 is 3 on some adapters. -#}
{% macro safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as {{ type_double() }})
     / nullif(cast({{ denominator }} as {{ type_double() }}), 0))
{%- endmacro %}

{#- Clamp an expression into [low, high]. -#}
{% macro clamp(expression, low, high) -%}
    (case when {{ expression }} < {{ low }} then {{ low }}
          when {{ expression }} > {{ high }} then {{ high }}
          else {{ expression }} end)
{%- endmacro %}

{#- A boolean expression as 1/0, for counting true flags on every adapter. -#}
{% macro as_int(boolean_expression) -%}
    (case when {{ boolean_expression }} then 1 else 0 end)
{%- endmacro %}

{#- Round to a number of decimals on every adapter (Postgres rounds only
    numerics), returned as a float. -#}
{% macro round_to(expression, digits) -%}
    cast(round(cast({{ expression }} as {{ dbt.type_numeric() }}), {{ digits }}) as {{ type_double() }})
{%- endmacro %}

{#- The exact type measures are summed in: a double's sum depends on the
    order rows arrive in, so an incremental run and a full build could
    disagree in the last bit, and a ratio land on the wrong side of 0.70. -#}
{% macro type_exact() -%}
    numeric(38, 9)
{%- endmacro %}

{#- sum() of a measure, exact whatever the row order, returned as a double. -#}
{% macro exact_sum(expression) -%}
    cast(sum(cast({{ expression }} as {{ type_exact() }})) as {{ type_double() }})
{%- endmacro %}

{#- Sorts high before medium before low (ascending), for order by. -#}
{% macro urgency_order(urgency_expression) -%}
    case {{ urgency_expression }} when 'high' then 1 when 'medium' then 2 when 'low' then 3 else 4 end
{%- endmacro %}

{#- 1 when a text column is null or only blanks, else 0. -#}
{% macro is_blank(text_expression) -%}
    (case when {{ text_expression }} is null or trim({{ text_expression }}) = '' then 1 else 0 end)
{%- endmacro %}

{#- One bound of the 95% interval of a rate ratio (Katz's log method):
    (a / n1) / (c / n2), exp(ln(ratio) +/- z * se), se = sqrt(1/a - 1/n1 +
    1/c - 1/n2). When either count of events is 0 the ratio has no log, so
    half an event is added to every cell (Haldane-Anscombe): a play with no
    conversions gets a finite upper bound. With no events in the first group
    the lower bound is 0 (the ratio itself is 0); with none in the second the
    upper bound is unbounded (null), as the ratio is. Null when either group
    is empty. `side` is -1 for the lower bound, 1 for the upper. -#}
{% macro rate_ratio_bound(a, n1, c, n2, side, z=1.96) -%}
    {%- set fix = '(case when ' ~ a ~ ' = 0 or ' ~ c ~ ' = 0 then 0.5 else 0 end)' -%}
    {%- set a1 = '(' ~ a ~ ' + ' ~ fix ~ ')' -%}
    {%- set c1 = '(' ~ c ~ ' + ' ~ fix ~ ')' -%}
    {%- set n1_ = '(' ~ n1 ~ ' + 2 * ' ~ fix ~ ')' -%}
    {%- set n2_ = '(' ~ n2 ~ ' + 2 * ' ~ fix ~ ')' -%}
    (case when not ({{ n1 }} > 0 and {{ n2 }} > 0) then null
          {% if side < 0 %}when {{ a }} = 0 then 0{% else %}when {{ c }} = 0 then null{% endif %}
          else exp(
        ln({{ safe_divide(a1 ~ ' * ' ~ n2_, c1 ~ ' * ' ~ n1_) }})
        + {{ side }} * {{ z }} * sqrt(
            {{ safe_divide(1, a1) }} - {{ safe_divide(1, n1_) }}
            + {{ safe_divide(1, c1) }} - {{ safe_divide(1, n2_) }}))
    end)
{%- endmacro %}

{#- A signal's urgency (triggers.md): high when the account is compound or,
    for a key about one product, its limit level is intervention, its seat
    utilization >= 0.95 or its last complete month's consumption ratio >=
    1.50; low for a tier_upgrade at warning level with fewer than 3 gated
    events; else medium. The one statement of the rule: int_signal_urgency
    applies it as of as_of, int_episode_urgency to every fired day. -#}
{% macro signal_urgency(compound, product, play_id, limit_level, seat_utilization,
                        last_month_consumption_ratio, gated_events) -%}
    case
        when {{ compound }} then 'high'
        when {{ product }} <> '' and (
            {{ limit_level }} = 'intervention'
            or {{ seat_utilization }} >= {{ var('expansion_urgent_seat_utilization') }}
            or {{ last_month_consumption_ratio }} >= {{ var('expansion_urgent_consumption_ratio') }}
        ) then 'high'
        when {{ play_id }} = 'tier_upgrade'
            and {{ limit_level }} = 'warning'
            and coalesce({{ gated_events }}, 0) < {{ var('expansion_low_urgency_max_gated_events') }}
            then 'low'
        else 'medium'
    end
{%- endmacro %}

{#- A month's effective price per unit used (usage_efficiency): the committed units at
    unit_price plus the units over the commitment at overage_unit_price, over the units
    used; null when none were used. -#}
{% macro effective_unit_price(used, committed, unit_price='unit_price',
                              overage_unit_price='overage_unit_price') -%}
    {{ safe_divide(
        committed ~ ' * ' ~ unit_price ~ ' + case when ' ~ used ~ ' > ' ~ committed
        ~ ' then (' ~ used ~ ' - ' ~ committed ~ ') * ' ~ overage_unit_price ~ ' else 0 end',
        used) }}
{%- endmacro %}

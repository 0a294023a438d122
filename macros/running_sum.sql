{#-
    Turns intervals into a dense daily series: for every group and every day of
    the spine, the sum of each measure over the intervals covering that day.

    intervals:  a relation or CTE name with group columns, a start day, an end
                day (inclusive; null means open-ended) and the measure columns.
    first_day:  the first day to emit (default: the spine's first day); an
                incremental run passes the first day it computes.
    exact_decimals: measures are counts (summed as bigint) unless true, when
                they are summed as exact decimals and returned as doubles:
                a running sum of doubles drifts, and 42000 / 60000 must be
                exactly 0.70.
    Returns a select of group columns, date_day and one column per measure.

    Counting "distinct keys seen in the N days ending d", "open tickets on d"
    or "NPS responses in the 180 days ending d" are all this one computation:
    +measure on the start day, -measure the day after the end, a running total.
    It scales with the number of intervals, not intervals x days.
-#}
{% macro running_sum(intervals, group_columns, start_column, end_column, measures, first_day=none, exact_decimals=false, spine='int_day_spine') -%}
    {%- set measure_type = type_exact() if exact_decimals else dbt.type_bigint() -%}
    {%- set groups = group_columns | join(', ') -%}
    {%- set spine_relation = ref(spine) -%}
    with
    running_sum__deltas as (
        select {{ groups }}, {{ start_column }} as change_day
            {%- for m in measures %}, cast({{ m }} as {{ measure_type }}) as {{ m }}{% endfor %}
        from {{ intervals }}
        union all
        select {{ groups }}, {{ add_days(1, end_column) }} as change_day
            {%- for m in measures %}, -cast({{ m }} as {{ measure_type }}) as {{ m }}{% endfor %}
        from {{ intervals }}
        where {{ end_column }} is not null
    ),
    running_sum__days as (
        select date_day from {{ spine_relation }}
        {%- if first_day is not none %} where date_day >= {{ first_day }}{% endif %}
    ),
    running_sum__bounds as (
        select min(date_day) as first_day from running_sum__days
    ),
    -- every change before the first day computed is carried into it
    running_sum__daily as (
        select
            {{ groups }},
            case when d.change_day < b.first_day then b.first_day else d.change_day end as date_day
            {%- for m in measures %}, sum({{ m }}) as {{ m }}{% endfor %}
        from running_sum__deltas as d
        cross join running_sum__bounds as b
        group by {{ groups }}, case when d.change_day < b.first_day then b.first_day else d.change_day end
    ),
    running_sum__groups as (
        select distinct {{ groups }} from {{ intervals }}
    ),
    running_sum__grid as (
        select
            {% for g in group_columns %}g.{{ g }}, {% endfor %}
            s.date_day
            {%- for m in measures %}, coalesce(d.{{ m }}, 0) as {{ m }}{% endfor %}
        from running_sum__groups as g
        cross join running_sum__days as s
        left join running_sum__daily as d
            on {% for g in group_columns %}d.{{ g }} = g.{{ g }} and {% endfor %}d.date_day = s.date_day
    ),
    running_sum__totals as (
        select
            {{ groups }},
            date_day
            {%- for m in measures %},
            sum({{ m }}) over (
                partition by {{ groups }} order by date_day rows between unbounded preceding and current row
            ) as {{ m }}
            {%- endfor %}
        from running_sum__grid
    )
    -- a day where every measure is 0 carries no information: consumers coalesce
    select
        {{ groups }},
        date_day
        {%- for m in measures %},
        cast({{ m }} as {{ type_double() if exact_decimals else dbt.type_bigint() }}) as {{ m }}
        {%- endfor %}
    from running_sum__totals
    where {% for m in measures %}{{ m }} <> 0{% if not loop.last %} or {% endif %}{% endfor %}
{%- endmacro %}


{#-
    Merges the days on which a key was seen into islands of coverage: a day u
    covers u .. u + window_days - 1, and overlapping or touching coverage is
    one island. Feeding islands to running_sum counts distinct keys seen in
    the window_days ending each day.
    days: relation/CTE with key columns and a day column, one row per key-day.
-#}
{% macro coverage_islands(days, key_columns, day_column, window_days) -%}
    {%- set keys = key_columns | join(', ') -%}
    with
    coverage_islands__ordered as (
        select
            {{ keys }},
            {{ day_column }} as seen_on,
            lag({{ day_column }}) over (partition by {{ keys }} order by {{ day_column }}) as previous_seen_on
        from {{ days }}
    ),
    coverage_islands__flagged as (
        select
            *,
            case
                when previous_seen_on is null then 1
                when {{ days_between('previous_seen_on', 'seen_on') }} > {{ window_days }} then 1
                else 0
            end as starts_island
        from coverage_islands__ordered
    ),
    coverage_islands__numbered as (
        select
            *,
            sum(starts_island) over (
                partition by {{ keys }} order by seen_on rows between unbounded preceding and current row
            ) as island_number
        from coverage_islands__flagged
    )
    select
        {{ keys }},
        min(seen_on) as covered_from,
        {{ add_days(window_days - 1, 'max(seen_on)') }} as covered_to
    from coverage_islands__numbered
    group by {{ keys }}, island_number
{%- endmacro %}


{#- The measure columns of one branch of a union feeding running_sum: the
    given values, and 0 for every other measure, in a fixed order. -#}
{% macro measure_columns(measures, values) -%}
    {%- for m in measures %}, {{ values.get(m, 0) }} as {{ m }}{% endfor -%}
{%- endmacro %}

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
    It scales with the number of intervals, not intervals x days: the totals
    are computed once per change day and then spread over the days they hold.
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
        select min(date_day) as first_day, {{ add_days(1, 'max(date_day)') }} as after_last_day
        from running_sum__days
    ),
    -- every change before the first day computed is carried into it
    running_sum__daily as (
        select
            {{ groups }},
            case when d.change_day < b.first_day then b.first_day else d.change_day end as date_day
            {%- for m in measures %}, sum({{ m }}) as {{ m }}{% endfor %}
        from running_sum__deltas as d
        cross join running_sum__bounds as b
        where d.change_day < b.after_last_day
        group by {{ groups }}, case when d.change_day < b.first_day then b.first_day else d.change_day end
    ),
    -- the totals hold from one change day until the next: one row per change,
    -- not per day
    running_sum__segments as (
        select
            {{ groups }},
            date_day as segment_start,
            coalesce(
                lead(date_day) over (partition by {{ groups }} order by date_day),
                b.after_last_day
            ) as segment_end
            {%- for m in measures %},
            sum({{ m }}) over (
                partition by {{ groups }} order by date_day rows between unbounded preceding and current row
            ) as {{ m }}
            {%- endfor %}
        from running_sum__daily
        cross join running_sum__bounds as b
    )
    -- a day where every measure is 0 carries no information: consumers coalesce
    select
        {% for g in group_columns %}r.{{ g }}, {% endfor %}
        s.date_day
        {%- for m in measures %},
        cast(r.{{ m }} as {{ type_double() if exact_decimals else dbt.type_bigint() }}) as {{ m }}
        {%- endfor %}
    from running_sum__segments as r
    inner join running_sum__days as s
        on s.date_day >= r.segment_start
        and s.date_day < r.segment_end
    where {% for m in measures %}r.{{ m }} <> 0{% if not loop.last %} or {% endif %}{% endfor %}
{%- endmacro %}


{#-
    Merges the days on which a key was seen into islands of coverage: a day u
    covers u .. u + window_days - 1, and overlapping or touching coverage is
    one island. Feeding islands to running_sum counts distinct keys seen in
    the window_days ending each day.
    days: relation/CTE with key columns and a day column, one row per key-day.

    One window pass over the key-days (lag and lead share its sort) marks the
    days that start an island and the days that end one; only those, about
    two per island, are ordered again to pair each start with its end.
-#}
{% macro coverage_islands(days, key_columns, day_column, window_days) -%}
    {%- set keys = key_columns | join(', ') -%}
    with
    coverage_islands__ordered as (
        select
            {{ keys }},
            {{ day_column }} as seen_on,
            lag({{ day_column }}) over (partition by {{ keys }} order by {{ day_column }}) as previous_seen_on,
            lead({{ day_column }}) over (partition by {{ keys }} order by {{ day_column }}) as next_seen_on
        from {{ days }}
    ),
    coverage_islands__edges as (
        select
            {{ keys }},
            seen_on,
            case
                when previous_seen_on is null then 1
                when {{ days_between('previous_seen_on', 'seen_on') }} > {{ window_days }} then 1
                else 0
            end as starts_island,
            case
                when next_seen_on is null then 1
                when {{ days_between('seen_on', 'next_seen_on') }} > {{ window_days }} then 1
                else 0
            end as ends_island
        from coverage_islands__ordered
    ),
    coverage_islands__paired as (
        select
            {{ keys }},
            seen_on,
            starts_island,
            case
                when ends_island = 1 then seen_on
                else lead(seen_on) over (partition by {{ keys }} order by seen_on)
            end as last_seen_on
        from coverage_islands__edges
        where starts_island = 1 or ends_island = 1
    )
    select
        {{ keys }},
        seen_on as covered_from,
        {{ add_days(window_days - 1, 'last_seen_on') }} as covered_to
    from coverage_islands__paired
    where starts_island = 1
{%- endmacro %}


{#- The measure columns of one branch of a union feeding running_sum: the
    given values, and 0 for every other measure, in a fixed order. -#}
{% macro measure_columns(measures, values) -%}
    {%- for m in measures %}, {{ values.get(m, 0) }} as {{ m }}{% endfor -%}
{%- endmacro %}

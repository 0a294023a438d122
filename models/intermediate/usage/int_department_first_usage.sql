{#- When each department of an account first used the product: the first
    usage day of any user of that department. Users without a department are
    ignored. -#}
with usage_daily as (

    select * from {{ ref('int_usage_daily') }}

),

users as (

    select * from {{ ref('stg_users') }}

),

user_first_usage as (

    select account_id, user_id, min(usage_date) as first_usage_date
    from usage_daily
    where user_id is not null
    group by account_id, user_id

),

final as (

    select
        users.account_id,
        users.department,
        min(user_first_usage.first_usage_date) as first_usage_date
    from user_first_usage
    inner join users
        on users.user_id = user_first_usage.user_id
    where users.department is not null
    group by users.account_id, users.department

)

select * from final

{#- Every account with its family: the top account (its parent, or itself
    when it has none) and every account whose parent is that top account. -#}
with accounts as (

    select * from {{ ref('stg_accounts') }}

),

tops as (

    select account_id, coalesce(parent_account_id, account_id) as family_id
    from accounts

),

final as (

    select
        tops.account_id,
        tops.family_id,
        members.account_id as member_account_id
    from tops
    inner join accounts as members
        on members.account_id = tops.family_id
        or members.parent_account_id = tops.family_id

)

select * from final

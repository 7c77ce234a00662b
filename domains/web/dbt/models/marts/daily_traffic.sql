-- Private to the domain: all traffic including anonymous visitors, so event counts add up.
select
    cast(occurred_at as date) as event_date,
    event_type,
    device,
    customer_id is null as is_anonymous,
    count(*) as events,
    count(distinct session_id) as sessions
from {{ ref('stg_tracking__events') }}
group by all

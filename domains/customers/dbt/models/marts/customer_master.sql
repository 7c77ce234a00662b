-- The domain's private golden record: every attribute including PII.
select
    customer_id,
    first_name,
    last_name,
    email,
    birth_date,
    city,
    country,
    signup_date,
    marketing_opt_in
from {{ ref('stg_crm__customers') }}

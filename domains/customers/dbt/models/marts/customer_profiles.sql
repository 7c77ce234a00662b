-- Public, pseudonymised profile: direct identifiers are hashed or coarsened before they leave.
select
    customer_id,
    sha256(email) as email_sha256,
    year(birth_date) as birth_year,
    city,
    country,
    signup_date,
    marketing_opt_in
from {{ ref('customer_master') }}

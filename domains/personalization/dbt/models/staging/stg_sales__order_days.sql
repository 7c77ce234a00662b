-- Every day with an order placed, cancelled ones included: the observed window of the sales port.
select order_date, count(*) as order_lines
from {{ source('sales', 'order_lines') }}
group by order_date

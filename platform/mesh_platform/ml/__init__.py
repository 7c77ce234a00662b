"""LightGBM churn and product-ranking models trained on point-in-time features of the ports."""

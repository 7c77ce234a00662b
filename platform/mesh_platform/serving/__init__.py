"""Real-time recommendations API served from the recommender champion's published port."""

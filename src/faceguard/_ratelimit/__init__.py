"""Client-side rate limiting: a shared, adaptive token bucket per Face resource."""

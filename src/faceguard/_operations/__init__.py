"""What the API offers: pure builders per REST area, bound into sync and async groups."""

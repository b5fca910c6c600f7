"""Where the events benchmark's events are and what they are called: the seed writes events
from these, and the distinct discovery queries ask for them."""

CITIES = [
    (-33.9249, 18.4241),  # Cape Town
    (-26.2041, 28.0473),  # Johannesburg
    (-29.8587, 31.0218),  # Durban
    (30.0444, 31.2357),  # Cairo
    (25.2048, 55.2708),  # Dubai
    (51.5072, -0.1276),  # London
    (52.5200, 13.4050),  # Berlin
    (40.7128, -74.0060),  # New York
]
WORDS = [
    "jazz", "rock", "food", "market", "wine", "tasting", "yoga", "run", "talk", "design",
    "film", "night", "garden", "rooftop", "picnic", "quiz", "salsa", "poetry", "book", "club",
    "craft", "beer", "coffee", "cycling", "hike", "comedy", "theatre", "art", "walk", "dance",
]  # fmt: skip

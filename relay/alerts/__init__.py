"""Notifications to operators (the ``alerts:`` section): a delivery died or needs review, a
target's breaker opened, a route's variables could not be mapped."""

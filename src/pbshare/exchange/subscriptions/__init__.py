"""Subscriptions to the office's outbound resources, and the case events that feed them."""

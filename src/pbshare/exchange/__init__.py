"""Cases and debtors, connections, requests, deliveries (outbox/inbox), subscriptions, corrections."""

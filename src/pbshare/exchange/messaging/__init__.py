"""Inbox, outbox, receipts, dead letters and refusals: what becomes of every envelope, whatever its channel."""

"""Requests to units (查询 and 核查): one item per unit × resource, its lifecycle, answers, reminders, the portal."""

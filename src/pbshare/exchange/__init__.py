"""The exchange: what every channel carries and what happens to it.

Top level, the machinery every transport meets: ``envelope`` (the signed JSON of DESIGN.md §5),
``channel`` (the contract a transport implements), ``registry`` (transports found by entry point),
``hub`` (where a transport hands in what it received) and ``runtime`` (listeners and the outbox
dispatcher). Beside it the sub-domains, each with its models, schemas, service and api:
``cases`` (debtors and bankruptcy cases), ``connections`` (a unit × channel × keys, and its life
cycle) and ``messaging`` (inbox, outbox, dead letters, refusals; the REST channel's routes).
"""

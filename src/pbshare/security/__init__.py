"""Users, units' accounts, roles, login, API clients, audit chain, crypto and masking."""

"""Identity: users, roles, login sessions, bearer tokens, passwords, TOTP and the security policy."""

"""National and international cryptography, the key ring, and the PII vault."""

"""Operations: backup, restore, retention and destruction of personal data (GB/T 39477 §6.3)."""

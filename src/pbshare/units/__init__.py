"""The unit registry (the office and every 数源单位) and the Principal: who is acting."""

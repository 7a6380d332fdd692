"""Demo data: the sample catalog's units, synthetic debtors and cases, one user per role."""

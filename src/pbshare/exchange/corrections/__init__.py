"""Corrections (纠错): asking a unit to correct a delivery, an answer or rows, tracked to closure."""

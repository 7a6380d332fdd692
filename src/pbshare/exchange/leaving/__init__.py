"""Leaving the sharing (退出): terminating a unit's connection closes its API for good, history kept."""

"""Source units, the sharing catalog (resources, info items) and its publishing lifecycle."""

"""The browser UI: static files (Vue 3 + Element Plus as native ES modules, no build step)."""

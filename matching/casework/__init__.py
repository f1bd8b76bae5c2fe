"""The case store: bodies, users and roles, runs, matches, outcomes, declarations, audit.

A Django app. The analytical side never imports it; it reads run bundles from disk.
"""

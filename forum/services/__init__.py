"""The write side: one module per area. Each function validates, checks policy, changes, commits.

Services never touch ``request``, ``flash`` or ``abort``: they raise ``forum.services.errors``.
"""

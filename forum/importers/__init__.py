"""Importing an SMF forum: BBCode to Markdown, legacy password hashes."""

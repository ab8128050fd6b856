"""The weekly nudge scheduler: runs dispatch passes beside or apart from the web app."""

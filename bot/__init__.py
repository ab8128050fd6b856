"""Leading Health nudges: a Slack app that turns a leadership capability into weekly practice."""

__version__ = "0.1.0"

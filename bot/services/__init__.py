"""Services: plain async code over a session factory and a clock. They never import Bolt."""

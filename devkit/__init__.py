"""The dev kit: the Slack simulator, the signed-request driver and the demo. Never in production."""

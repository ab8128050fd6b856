"""The weekly nudges go out here, in three parts and a pass that runs them:

- claiming (with planning, a pure function from a claimed schedule to what it gets, and
  looking_back, the earlier reflections a batch's people could be shown again): due schedules
  and abandoned deliveries become jobs;
- sending: one job to Slack, and Slack's answer sorted into an outcome;
- recording: outcomes written in batches, and a gone workspace or member stopped;
- dispatcher: one pass, with its limits per workspace and in all.

How a nudge looks is passed in as `NudgeMessages` where the app is wired; nothing here imports
the renderer.
"""

from bot.services.dispatch.claiming import LEASE, Job
from bot.services.dispatch.dispatcher import RENEW_EVERY, Dispatcher, PassSummary
from bot.services.dispatch.planning import UNANSWERED_BEFORE_ASKING
from bot.services.dispatch.recording import MAX_ATTEMPTS
from bot.services.dispatch.sending import METADATA_EVENT, NudgeMessages

__all__ = [
    "LEASE",
    "MAX_ATTEMPTS",
    "METADATA_EVENT",
    "RENEW_EVERY",
    "UNANSWERED_BEFORE_ASKING",
    "Dispatcher",
    "Job",
    "NudgeMessages",
    "PassSummary",
]

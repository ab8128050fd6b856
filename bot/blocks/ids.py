"""Every action, block and callback id the app writes, in one place: the handlers match on these."""

ANOTHER_ACTION = "another_item"

# weekly nudges
NUDGE_REFLECT_ACTION = "nudge_reflect"
NUDGE_SNOOZE_ACTION = "nudge_snooze"
NUDGE_SKIP_ACTION = "nudge_skip"
BACKOFF_WEEKLY_ACTION = "backoff_weekly"
BACKOFF_FORTNIGHTLY_ACTION = "backoff_fortnightly"
BACKOFF_PAUSE_ACTION = "backoff_pause_month"

# reflections, the journal and forget
REFLECTION_MODAL = "reflection_modal"
REFLECTION_BLOCK = "reflection"
REFLECTION_INPUT = "reflection_text"
JOURNAL_OLDER_ACTION = "journal_older"
FORGET_CONFIRM_ACTION = "forget_confirm"
FORGET_CANCEL_ACTION = "forget_cancel"
SEASON_EXPORT_ACTION = "season_export"  # a season summary's "Export my journal"
SAVED_REACTION = "white_check_mark"

# App Home and the schedule modal
HOME_CHANGE_ACTION = "home_change"
HOME_SUBSCRIBE_ACTION = "home_subscribe"
HOME_PAUSE_ACTION = "home_pause"
HOME_RESUME_ACTION = "home_resume"
HOME_STOP_ACTION = "home_stop"
HOME_JOURNAL_ACTION = "home_journal"
HOME_TIP_ACTION = "home_tip"
HOME_FOCUS_ACTION = "home_focus"
HOME_LOOK_BACK_ACTION = "home_look_back"  # value "on" or "off": what to turn it to
HOME_HOLIDAYS_ACTION = "home_holidays"  # the public-holiday region menu
HOME_COHORT_ACTION = "home_cohort"  # "Start a cohort": opens COHORT_MODAL
SCHEDULE_MODAL = "schedule_modal"
COHORT_MODAL = "cohort_modal"
CHANNEL_BLOCK, CHANNEL_INPUT = "channel", "channel_select"
DAY_BLOCK, DAY_INPUT = "day", "day_select"
TIME_BLOCK, TIME_INPUT = "time", "time_picker"

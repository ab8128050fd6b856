"""The web pages people see when they install the app: install, success and failure.

Plain HTML with the styles inline: no scripts, no fonts or images from elsewhere, readable on a
phone. Every value put into a page is escaped.
"""

from __future__ import annotations

from html import escape

from bot.content import Library

APP_NAME = "Leading Health nudges"

_STYLE = """
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.5;
color:#1d1c1d;background:#f6f4f8}
main{max-width:38rem;margin:0 auto;padding:2rem 1.25rem 3rem}
h1{font-size:1.6rem;line-height:1.25;margin:0 0 .75rem;color:#4a2a6b}
h2{font-size:1.1rem;margin:1.75rem 0 .5rem}
p,li{font-size:1rem}
ul{padding-left:1.25rem}
.card{background:#fff;border-radius:12px;padding:1.25rem 1.25rem .5rem;
box-shadow:0 1px 3px rgba(0,0,0,.08)}
.card>:first-child{margin-top:0}
.lead{font-size:1.1rem}
code{white-space:nowrap;font-size:.95em}
.button{display:inline-block;margin:1rem 0;padding:.8rem 1.4rem;border-radius:8px;
background:#4a154b;color:#fff;font-weight:600;text-decoration:none;font-size:1.05rem}
.button:focus,.button:hover{background:#611f69;outline:3px solid #ecb22e}
.note{color:#555;font-size:.9rem}
"""


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html>\n"
        '<html lang="en-NZ"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · {APP_NAME}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )


def _mi(words: str) -> str:
    """Te reo Māori words, marked so screen readers say them as te reo."""
    return f'<span lang="mi">{words}</span>'


def _details(library: Library) -> str:
    attribution = library.attribution
    return (
        "<h2>What it does</h2><ul>"
        "<li><code>/leading-tip</code> gives a quick tip, a practice idea or something that "
        "can hold you back.</li>"
        "<li>Each person can choose a weekly nudge in their DMs, on a day and at a time that "
        "suits them, in their own time zone.</li>"
        "<li>Replies to a nudge are kept as private reflections to look back on.</li></ul>"
        "<h2>What it stores</h2><ul>"
        "<li>The Slack IDs of the people who use it, their time zone, their nudge schedule "
        "and what they’ve been shown.</li>"
        "<li>The reflections people write, encrypted. Only the person who wrote one can see "
        "it; admins see counts only.</li>"
        "<li>The app’s Slack token for your workspace, encrypted.</li></ul>"
        "<p>Anyone can see, export or delete what they wrote, or type "
        "<code>/leading-tip forget</code> to remove everything about them. Removing the app "
        "stops every nudge at once, and its data is deleted after a grace period.</p>"
        f'<p class="note">Content from {escape(attribution.framework)}, the leadership framework '
        f"of {escape(attribution.owner)}, published by {escape(attribution.publisher)}.</p>"
    )


def install_page(library: Library, authorize_url: str) -> str:
    capability = library.capabilities[0]
    body = (
        f"<h1>{APP_NAME}</h1>"
        f'<p class="lead">{_mi("Kia ora")}! This Slack app turns one leadership capability, '
        f"<strong>{escape(capability.title)}</strong>, into a few minutes of practice each "
        "week.</p>"
        f'<p><a class="button" href="{escape(authorize_url)}">Add to Slack</a></p>'
        '<p class="note">You choose the workspace on the next page. Slack shows you what the '
        "app can do before anything is added.</p>"
        f'<div class="card">{_details(library)}</div>'
    )
    return _page("Add to Slack", body)


def success_page(library: Library, workspace: str | None, app_link: str | None) -> str:
    where = f" to {escape(workspace)}" if workspace else ""
    capability = library.capabilities[0]
    open_link = (
        f'<p><a class="button" href="{escape(app_link)}">Open Slack</a></p>' if app_link else ""
    )
    body = (
        f"<h1>{_mi('Ka pai')}, you’re all set</h1>"
        f'<p class="lead">{APP_NAME} is added{where}.</p>'
        '<div class="card">'
        f"<p>People can now type <code>/leading-tip</code> in any channel or DM for a tip on "
        f"<strong>{escape(capability.title)}</strong>.</p>"
        "<p>To get a weekly nudge, type <code>/leading-tip weekly</code>, or open the app’s "
        "Home tab in Slack and choose a day and time.</p>"
        "<p>Reflections stay private to the person who writes them.</p></div>"
        f"{open_link}"
    )
    return _page("Added to Slack", body)


# Why an install did not finish, in words for the person installing.
_FAILURES = {
    "access_denied": "You cancelled in Slack, so nothing was added.",
    "invalid_browser": (
        "This install was started in a different browser, or its link has already been used."
    ),
    "invalid_state": "This install link has expired or has already been used.",
    "missing_code": "Slack didn’t send back what we need to finish the install.",
    "invalid_code": "Slack didn’t accept the install. It may have taken too long.",
    "storage_error": "We couldn’t save the install just now, so nothing was added.",
    "unavailable": "We can’t start an install just now.",
}
_NEXT = {
    "access_denied": "Changed your mind? You can add it whenever you like.",
    "storage_error": "Please try again in a minute or two.",
    "unavailable": "Please try again in a minute or two.",
}
_NEXT_OTHERWISE = (
    "Please start again. If it keeps happening, ask your Slack admin whether apps can be "
    "added to your workspace."
)


def failure_page(reason: str, install_path: str) -> str:
    why = _FAILURES.get(reason, "The install didn’t finish, so nothing was added.")
    body = (
        "<h1>The app wasn’t added</h1>"
        f'<div class="card"><p>{escape(why)}</p><p>{_NEXT.get(reason, _NEXT_OTHERWISE)}</p></div>'
        f'<p><a class="button" href="{escape(install_path)}">Start again</a></p>'
    )
    return _page("Not added", body)

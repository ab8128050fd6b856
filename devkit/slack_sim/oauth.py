"""`oauth.v2.access` as Slack answers it: an install's code exchanged for a bot token, and a
rotating token refreshed with its refresh token.

A test arranges an install with ``authorize_install`` (what Slack does when someone presses
"Allow"), which returns the one-time code Slack would put in the redirect to the app.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from devkit.slack_sim.state import DEFAULT_APP_ID, JsonDict, SimulatorState, SlackError

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "sim-client-secret"
ROTATING_EXPIRES_IN = 12 * 60 * 60  # Slack's rotating tokens last twelve hours


@dataclass
class _Grant:
    team_id: str  # the simulator workspace the token speaks for (an org: its enterprise id)
    team_name: str
    enterprise_id: str | None
    org_wide: bool
    installer: str
    rotating: bool
    expires_in: int
    user_token: bool


class OAuthMethods(SimulatorState):
    def _init_oauth(self) -> None:
        self.client_id = CLIENT_ID
        self.client_secret = CLIENT_SECRET
        self._codes: dict[str, _Grant] = {}
        self._refresh_tokens: dict[str, _Grant] = {}
        self._oauth_serial = itertools.count(1)

    def authorize_install(
        self,
        team_id: str,
        *,
        name: str | None = None,
        enterprise_id: str | None = None,
        org_wide: bool = False,
        installer: str = "U0001",
        rotating: bool = False,
        expires_in: int = ROTATING_EXPIRES_IN,
        bot_user_id: str | None = None,
        user_token: bool = False,
    ) -> str:
        """Someone allowed the app in `team_id` (or, `org_wide`, in the whole Grid org
        `enterprise_id`, whose simulator workspace is named by the enterprise id: its token
        serves every workspace of the org, and its users are added there). The workspace
        is added if new; returns the code for ``/slack/oauth_redirect?code=…``. Other
        workspaces of the org join it with `join_org`.

        `rotating`: the tokens expire after `expires_in` seconds and come with refresh tokens.
        `user_token`: the installer's own token comes too, as for an app asking user scopes."""
        where = enterprise_id if org_wide and enterprise_id else team_id
        if enterprise_id:
            self.join_org(team_id, enterprise_id)
            if org_wide:
                self._org_wide.add(enterprise_id)
        if where not in self._workspaces:
            self.add_workspace(
                where,
                token=self._new_token(where, rotating),
                bot_user_id=bot_user_id or f"UBOT{where}",
                name=name or f"Workspace {where}",
            )
        code = f"code-{next(self._oauth_serial)}-{where}"
        self._codes[code] = _Grant(
            where,
            name or self._workspaces[where].name,
            enterprise_id,
            org_wide,
            installer,
            rotating,
            expires_in,
            user_token,
        )
        return code

    def token_of(self, team_id: str) -> str:
        """The bot token a workspace (or org) answers to now."""
        return self._workspace(team_id).token

    def refuse_refresh(self, team_id: str) -> None:
        """Slack no longer accepts the refresh tokens it gave for `team_id` (an org: its
        enterprise id): refreshing answers invalid_refresh_token."""
        for refresh, grant in list(self._refresh_tokens.items()):
            if grant.team_id == team_id:
                del self._refresh_tokens[refresh]

    def _new_token(self, where: str, rotating: bool, kind: str = "b") -> str:
        prefix = f"xoxe.xox{kind}-" if rotating else f"xox{kind}-"
        return f"{prefix}{where}-{next(self._oauth_serial)}"

    def _oauth_v2_access(self, body: JsonDict, basic: tuple[str, str] | None) -> JsonDict:
        client_id, secret = basic or (body.get("client_id"), body.get("client_secret"))
        if client_id != self.client_id:
            raise SlackError("invalid_client_id")
        if secret != self.client_secret:
            raise SlackError("bad_client_secret")
        if body.get("grant_type") == "refresh_token":
            grant = self._refresh_tokens.get(str(body.get("refresh_token")))
            if grant is None:
                raise SlackError("invalid_refresh_token")
            workspace = self._workspace(grant.team_id)
            old = workspace.token
            self.add_workspace(
                grant.team_id,
                token=self._new_token(grant.team_id, True),
                bot_user_id=workspace.bot_user_id,
                name=workspace.name,
            )
            self._by_token[old] = self._workspaces[grant.team_id]  # good until it expires
            return self._token_answer(grant, str(body.get("refresh_token")), refreshed=True)
        grant = self._codes.pop(str(body.get("code")), None)
        if grant is None:
            raise SlackError("invalid_code")
        refresh = None
        if grant.rotating:
            refresh = f"xoxe-1-refresh-{grant.team_id}-{next(self._oauth_serial)}"
            self._refresh_tokens[refresh] = grant
        return self._token_answer(grant, refresh)

    def _token_answer(
        self, grant: _Grant, refresh: str | None, *, refreshed: bool = False
    ) -> JsonDict:
        workspace = self._workspace(grant.team_id)
        enterprise = (
            {"id": grant.enterprise_id, "name": f"Org {grant.enterprise_id}"}
            if grant.enterprise_id
            else None
        )
        answer: JsonDict = {
            "app_id": DEFAULT_APP_ID,
            "authed_user": {"id": grant.installer} if refreshed else self._installer(grant),
            "scope": ",".join(workspace.scopes),
            "token_type": "bot",
            "access_token": workspace.token,
            "bot_user_id": workspace.bot_user_id,
            "team": None if grant.org_wide else {"id": grant.team_id, "name": grant.team_name},
            "enterprise": enterprise,
            "is_enterprise_install": grant.org_wide,
        }
        if refresh is not None:
            answer["refresh_token"] = refresh
            answer["expires_in"] = grant.expires_in
        return answer

    def _installer(self, grant: _Grant) -> JsonDict:
        installer: JsonDict = {"id": grant.installer}
        if not grant.user_token:
            return installer
        installer["access_token"] = self._new_token(grant.team_id, grant.rotating, "p")
        installer["scope"] = "users:read"
        installer["token_type"] = "user"
        if grant.rotating:
            installer["refresh_token"] = f"xoxe-1-user-refresh-{next(self._oauth_serial)}"
            installer["expires_in"] = grant.expires_in
        return installer

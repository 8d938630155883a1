"""The connection's Webshipper account: which account (the subdomain of its web UI and API), where its API answers,
and the user whose password grant the client uses (reference/webshipper.md "Auth")."""

from __future__ import annotations

from crossdock.connections.model import Account

# reference/webshipper.md "Auth": `https://{account}.api.webshipper.io/v2/`, the same subdomain as the web UI.
WEBSHIPPER_API = "https://{account}.api.webshipper.io/v2"


def api_base_for(account: str, template: str = WEBSHIPPER_API) -> str:
    """The account's API base from a template naming `{account}` (the public one, staging's, or a simulator's)."""
    return template.format(account=account).rstrip("/")


class WebshipperAccount(Account):
    # The account name (subdomain): what the merchant types at install, and what names the account.
    account: str
    # Per connection so the same client talks to the real service, its staging or a simulator.
    api_base: str
    # The user's e-mail for the password grant (None with a stored API token, which needs no user).
    username: str | None = None

    @property
    def identity(self) -> str:
        return self.account

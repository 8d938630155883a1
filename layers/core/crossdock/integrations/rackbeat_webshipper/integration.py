"""`rackbeat_webshipper`: Rackbeat orders sent to Webshipper for shipping, Webshipper's orders and shipments back
to Rackbeat (SPEC §3). What the rest of Crossdock knows of this kind; each part's routes are added as it lands."""

from __future__ import annotations

from crossdock.integration import Integration
from crossdock.integrations.rackbeat_webshipper import (
    activation,
    choices,
    lifecycle,
    manual_sync,
    rackbeat_webhooks,
    tracking,
    webshipper_stream,
    webshipper_webhooks,
)
from crossdock.integrations.rackbeat_webshipper.connection import KIND, RackbeatWebshipperConnection
from crossdock.integrations.rackbeat_webshipper.settings import RackbeatWebshipperSettings

INTEGRATION = Integration(
    kind=KIND,
    connection_model=RackbeatWebshipperConnection,
    settings_model=RackbeatWebshipperSettings,
    routes=rackbeat_webhooks.ROUTES + webshipper_webhooks.ROUTES + tracking.ROUTES,
    commands=tracking.COMMANDS,
    manual_sync=manual_sync.SYNC,
    webhooks=activation.UPKEEP,
    lifecycle=lifecycle.LIFECYCLE,
    poll_streams=webshipper_stream.STREAMS,
    setting_choices=choices.SETTING_CHOICES,
    account_webhooks=activation.account_webhooks,
)

"""Where an alert firing or a briefing goes: a webhook, Slack, e-mail or the widget.

Each channel is checked when an alert or a briefing schedule is made (a Slack channel
needs the bot token, e-mail an SMTP server), so a trader learns at once that a channel
cannot work, not at the first firing. Sending is one call per delivery; it returns the
error (None when delivered) and whether retrying can ever help, and the delivery rows
(assistant/deliveries.py) do the retrying and dead-lettering.

- webhook: the JSON body, signed ``X-Assistant-Signature: sha256=<HMAC-SHA256 of the body
  with the alert's secret>``; only public addresses unless allowed (see ``check_target``).
- slack: Block Kit (a header and the text) through ``chat.postMessage``, to the channel
  given or, without one, to the Slack user's DM (a user who came from Slack).
- email: a plain-text message over SMTP (``ASSISTANT_SMTP_*``).
- widget: a row in the user's notifications, which ``/v1/notifications`` lists and
  streams (assistant/notifications.py).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import smtplib
import socket
from email.message import EmailMessage
from typing import Annotated, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    HttpUrl,
    StringConstraints,
    WithJsonSchema,
)

from assistant.settings import Settings
from tools.errors import UnavailableError

TIMEOUT_SECONDS = 5.0
CONNECT_SECONDS = 3.0
SLACK_FINAL = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "user_not_found",
        "cannot_dm_bot",
    }
)
"""Slack errors that retrying cannot cure."""


class WebhookChannel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["webhook"]
    url: HttpUrl


class SlackChannel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["slack"]
    channel: (
        Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[#A-Za-z0-9_.-]{1,80}$")]
        | None
    ) = Field(None, description="A channel id or #name; none means your Slack DM.")


def _any_case(word: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" for c in word)


SPECIAL_USE = ("arpa", "invalid", "local", "localhost", "onion", "test")
"""Domains no mail is delivered to, which email-validator refuses (RFC 6761)."""
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_PATTERN = (
    "^(?=[^@]{1,64}@)(?!.*@(?:[^@]*\\.)?(?:"
    + "|".join(_any_case(w) for w in SPECIAL_USE)
    + f")$){_ATOM}(?:\\.{_ATOM})*@(?:{_LABEL}\\.)+[A-Za-z]{{2,63}}$"
)
"""What the server takes as an address, as the schema says it: ASCII, a dotted domain
ending in letters, not a special-use domain; email-validator checks it too."""
Email = Annotated[
    EmailStr,
    WithJsonSchema(
        {"type": "string", "format": "email", "maxLength": 254, "pattern": EMAIL_PATTERN}
    ),
]


class EmailChannel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["email"]
    to: Email


class WidgetChannel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["widget"]


Channel = Annotated[
    WebhookChannel | SlackChannel | EmailChannel | WidgetChannel, Field(discriminator="type")
]


class ChannelError(UnavailableError):
    """A channel this server cannot deliver to (HTTP 409 unavailable / exit 2)."""


def slack_user(user_id: str) -> str | None:
    """The Slack user id of a user who came from Slack (``slack:U123``)."""
    return user_id.removeprefix("slack:") if user_id.startswith("slack:") else None


def check_channels(channels: list, user_id: str, settings: Settings) -> None:
    """Refuse, by name, a channel this server cannot deliver to."""
    for channel in channels:
        if isinstance(channel, WebhookChannel) and not settings.alert_webhook_allow_private:
            inside = private_literal(channel.url.host or "")
            if inside:
                raise ChannelError(
                    f"{redact_url(str(channel.url))}: {inside} is not a public address; "
                    "this server sends webhooks to public addresses only"
                )
        if isinstance(channel, SlackChannel):
            if not settings.slack_bot_token:
                raise ChannelError("a Slack channel needs ASSISTANT_SLACK_BOT_TOKEN on the server")
            if channel.channel is None and slack_user(user_id) is None:
                raise ChannelError(
                    "a Slack channel without a 'channel' goes to your Slack DM, and you are "
                    "not a Slack user: name a channel"
                )
        elif isinstance(channel, EmailChannel):
            if not settings.smtp_host:
                raise ChannelError("an e-mail channel needs ASSISTANT_SMTP_HOST on the server")
            if not str(channel.to).isascii():
                raise ChannelError(f"{channel.to}: this server sends mail to ASCII addresses only")


def describe(channel) -> str:
    if isinstance(channel, WebhookChannel):
        return redact_url(str(channel.url))
    if isinstance(channel, SlackChannel):
        return f"Slack {channel.channel}" if channel.channel else "your Slack DM"
    if isinstance(channel, EmailChannel):
        return f"e-mail to {channel.to}"
    return "the widget"


def redact_url(url: str) -> str:
    """A URL without the user, password and query values it may carry (tokens): lists and
    histories show it this way; the full URL was given once, and is what is sent to."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.username is not None or parts.password is not None:
        netloc = "***@" + netloc.rpartition("@")[2]
    query = "&".join(
        f"{key}=***" if sep else key
        for key, sep, _ in (pair.partition("=") for pair in parts.query.split("&") if pair)
    )
    return parts._replace(netloc=netloc, query=query).geturl()


def shown(channel):
    """A channel as lists show it: a webhook's URL redacted."""
    if isinstance(channel, WebhookChannel):
        return WebhookChannel(type="webhook", url=redact_url(str(channel.url)))
    return channel


class Message(BaseModel):
    """One thing to deliver: its title and text for people, its JSON body for machines,
    the secret that signs it, and whose it is."""

    delivery_id: str
    user_id: str
    title: str
    text: str
    body: dict
    secret: str
    link: str | None = None


# -- sending ------------------------------------------------------------------------------


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
IPV4_INSIDE = (ipaddress.ip_network("::/96"), ipaddress.ip_network("::ffff:0:0:0/96"))
"""IPv4-compatible and IPv4-translated (SIIT) addresses."""


def public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether an address is on the public internet, and any IPv4 address it carries too:
    IPv4-mapped, 6to4 and Teredo addresses are judged by the IPv4 address inside; NAT64,
    IPv4-compatible and site-local ones are refused (a NAT64 gateway reaches whatever
    IPv4 address is in the last 32 bits, internal ones included)."""
    if not ip.is_global or ip.is_multicast:  # private, shared (100.64/10), loopback...
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.is_site_local or any(ip in net for net in (*IPV4_INSIDE, *NAT64)):
            return False
        inner = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if inner is not None:
            return public(inner)
    return True


def private_literal(host: str) -> str | None:
    """The address a webhook host names without asking DNS (an IP literal, localhost),
    when it is not public: refused when the alert is made, not at its first firing.
    Names are resolved only when sending (:func:`check_target`), where a name that
    resolves inside is refused too."""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return "localhost"
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return None
    return None if public(ip) else str(ip)


class TargetError(ValueError):
    """A webhook target that is refused (``final``) or could not be resolved now."""

    def __init__(self, message: str, final: bool) -> None:
        super().__init__(message)
        self.final = final


def check_target(url: str, allow_private: bool) -> list[str]:
    """The addresses a webhook may be sent to; TargetError for an address inside the
    network unless allowed (final), or a name that does not resolve now (worth a retry).
    The request then goes to one of these addresses (the name is not resolved twice), so
    a name whose answer changes between the check and the send (DNS rebinding) cannot
    reach the network behind the server."""
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, urlsplit(url).port or None, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise TargetError(f"cannot resolve {host!r}: {exc}", final=False) from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if allow_private:
        return addresses
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not public(ip):
            raise TargetError(f"{host} resolves to {ip}, not a public address: not allowed", True)
    return addresses


class _PinnedTransport(httpx.HTTPTransport):
    """Connects to the checked address while the URL (Host header, TLS name) keeps the
    name: httpcore resolves nothing itself."""

    def __init__(self, address: str) -> None:
        super().__init__()
        self.address = address

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        original = request.url.host
        request.extensions = {**request.extensions, "sni_hostname": original}
        request.url = request.url.copy_with(host=self.address)
        request.headers["Host"] = request.headers.get("Host") or original
        return super().handle_request(request)


def send_webhook(
    channel: WebhookChannel, message: Message, allow_private: bool
) -> tuple[str | None, bool]:
    url = str(channel.url)
    body = json.dumps(message.body, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Assistant-Signature": signature(message.secret, body),
        "X-Assistant-Delivery": message.delivery_id,
    }
    try:
        addresses = check_target(url, allow_private)
    except TargetError as exc:  # refused (it will be refused again), or DNS is down now
        return str(exc)[:500], exc.final
    try:
        with httpx.Client(
            transport=_PinnedTransport(addresses[0]),
            timeout=httpx.Timeout(TIMEOUT_SECONDS, connect=CONNECT_SECONDS),
        ) as client:
            response = client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:500], False
    if 200 <= response.status_code < 300:
        return None, False
    return f"HTTP {response.status_code}", False


def send_slack(
    channel: SlackChannel, message: Message, settings: Settings
) -> tuple[str | None, bool]:
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    if not settings.slack_bot_token:
        return "Slack is not configured (ASSISTANT_SLACK_BOT_TOKEN)", True
    target = channel.channel or slack_user(message.user_id)
    if target is None:
        return "no Slack channel and the user is not a Slack user", True
    client = WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url or WebClient.BASE_URL,
        timeout=int(TIMEOUT_SECONDS),
    )
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": message.title[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": message.text[:2900]}},
    ]
    try:
        client.chat_postMessage(channel=target, text=message.title, blocks=blocks)
    except SlackApiError as exc:
        code = str(exc.response.get("error", "")) if exc.response is not None else ""
        return f"Slack: {code or exc}"[:500], code in SLACK_FINAL
    except Exception as exc:  # the network: retry
        return f"Slack: {type(exc).__name__}: {exc}"[:500], False
    return None, False


def send_email(
    channel: EmailChannel, message: Message, settings: Settings
) -> tuple[str | None, bool]:
    if not settings.smtp_host:
        return "e-mail is not configured (ASSISTANT_SMTP_HOST)", True
    mail = EmailMessage()
    mail["Subject"] = message.title
    mail["From"] = settings.smtp_from
    mail["To"] = str(channel.to)
    mail["X-Assistant-Delivery"] = message.delivery_id
    mail.set_content(message.text + (f"\n\n{message.link}" if message.link else ""))
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS) as s:
            if settings.smtp_starttls:
                s.starttls()
            if settings.smtp_username and settings.smtp_password:
                s.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            s.send_message(mail)
    except smtplib.SMTPRecipientsRefused as exc:
        return f"SMTP refused {channel.to}: {exc.recipients}"[:500], True
    except (smtplib.SMTPException, OSError) as exc:
        return f"SMTP: {type(exc).__name__}: {exc}"[:500], False
    return None, False

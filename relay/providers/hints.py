"""One line per provider: where its webhook URL goes, which events to pick, which secret to
copy into the source's ``secrets`` (and the header it signs), and any handshake.

Shown by ``relay urls`` next to each source's URL. Plain text, never secret material.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

__all__ = ["HINTS", "hint"]

HINTS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "asana": "Create the webhook with the API (POST /webhooks, target = this URL); Asana's "
        "handshake POSTs X-Hook-Secret, which relay echoes but does not store yet: put that "
        "secret in secrets (it signs X-Hook-Signature).",
        "basic": "Give the sender this URL with HTTP Basic credentials equal to one of secrets "
        "(user:password). HTTPS only: the body is not signed.",
        "bitbucket": "Repository settings > Webhooks > Add webhook: paste the URL, set a Secret "
        "(X-Hub-Signature), pick the triggers your routes use.",
        "calendly": "Create a webhook subscription with the API (POST /webhook_subscriptions, "
        "url = this URL, signing_key = your secret), the events your routes "
        "use (Calendly-Webhook-Signature).",
        "clerk": "Dashboard > Configure > Webhooks > Add Endpoint: paste the URL, pick events "
        "your routes use, copy the Signing Secret (whsec_...) into secrets.",
        "coinbase-commerce": "Settings > Webhook subscriptions > Add an endpoint: paste the URL; "
        "copy the Shared secret (X-CC-Webhook-Signature).",
        "discord": "Developer Portal > your app: paste the URL as Interactions Endpoint URL (or "
        "under Webhooks > Endpoint URL for webhook events); put the Public Key in secrets. "
        "Discord's PING is answered once the signature verifies.",
        "dropbox": "App Console > your app > Webhooks: add the URL (Dropbox's GET ?challenge= is "
        "echoed); the App secret signs X-Dropbox-Signature.",
        "ed25519": "Give the sender this URL; put its Ed25519 public key in secrets and set "
        "header (and timestamp_header) to where it sends the signature.",
        "github": "Repository or organization Settings > Webhooks > Add webhook: paste the URL, "
        "Content type application/json, set the Secret (X-Hub-Signature-256), choose events.",
        "gitlab": "Project or group Settings > Webhooks > Add new webhook: paste the URL, set "
        "the Secret token (sent as X-Gitlab-Token), tick the triggers.",
        "hmac": "Give the sender this URL and the shared secret; set header, algorithm, "
        "encoding, prefix and signed to match how it signs (event_type_path etc. name events).",
        "hubspot": "Developer account > your app > Webhooks: Target URL = this URL (public_url "
        "must be exactly the same), subscribe to the events your routes use; the app's "
        "Client secret signs X-HubSpot-Signature-v3.",
        "intercom": "Developer Hub > your app > Webhooks: paste the URL and pick topics; the "
        "app's Client secret signs X-Hub-Signature (sha1).",
        "jira": "Settings > System > WebHooks > Create a WebHook: paste the URL, set a Secret "
        "(X-Hub-Signature), pick the events your routes use.",
        "lemonsqueezy": "Settings > Webhooks > +: paste the URL, set a Signing secret "
        "(X-Signature), tick the events your routes use.",
        "linear": "Settings > API > Webhooks > New webhook: paste the URL, pick resource types; "
        "copy the signing secret (Linear-Signature).",
        "mailgun": "Sending > Webhooks > Add webhook: pick the event types your routes use, paste "
        "the URL; the HTTP webhook signing key goes in secrets (the signature is in the body).",
        "meta": "App Dashboard > Webhooks: Callback URL = this URL, Verify Token = the source's "
        "verify_token (GET handshake); subscribe to fields; the App Secret signs "
        "X-Hub-Signature-256.",
        "microsoft-graph": "Create a subscription (POST /subscriptions) with notificationUrl = "
        "this URL and clientState = one of secrets; Graph's ?validationToken= check is echoed.",
        "none": "NO VERIFICATION: anyone who can reach this URL can inject events. Keep it on a "
        "private network or behind an authenticating proxy.",
        "notion": "Integration settings > Webhooks > Create a subscription: paste the URL; Notion "
        "POSTs a verification_token: paste it back into Notion and into secrets "
        "(X-Notion-Signature).",
        "okta": "Admin Console > Workflow > Event Hooks > Create: URL = this URL, Authentication "
        "field = Authorization (or the source's header), secret = one of secrets; Okta's "
        "verification GET is answered.",
        "paddle": "Developer Tools > Notifications > New destination: paste the URL, pick events; "
        "copy the secret key (Paddle-Signature).",
        "pagerduty": "Integrations > Generic Webhooks (v3) > New Webhook: paste the URL, pick "
        "event types; copy the signing secret shown once (X-PagerDuty-Signature).",
        "paypal": "Developer Dashboard > your app > Webhooks > Add Webhook: paste the URL, pick "
        "event types; put the Webhook ID in webhook_id and PayPal's signing certificate (PEM) "
        "in secrets.",
        "resend": "Webhooks > Add Webhook: paste the URL, pick the events your routes use, copy "
        "the signing secret (whsec_...).",
        "sendgrid": "Settings > Mail Settings > Event Webhook: Post URL = this URL, pick events, "
        "enable Signed Event Webhook and put its Verification Key in secrets.",
        "sentry": "Settings > Developer Settings > Custom Integration: Webhook URL = this URL, "
        "tick the resources your routes use; the Client Secret signs Sentry-Hook-Signature.",
        "shopify": "Settings > Notifications > Webhooks > Create webhook (or the app's webhook "
        "subscriptions): paste the URL, JSON, pick the topic; the signing secret signs "
        "X-Shopify-Hmac-Sha256.",
        "slack": "api.slack.com/apps > your app > Event Subscriptions: Request URL = this URL "
        "(url_verification is answered), subscribe to events; Basic Information > Signing "
        "Secret goes in secrets.",
        "square": "Developer Console > your app > Webhooks > Subscriptions > Add: Notification "
        "URL = this URL (public_url exactly the same), pick events; copy the Signature key.",
        "standard-webhooks": "Give the sender this URL; put its whsec_... secret in secrets "
        "(webhook-id, webhook-timestamp, webhook-signature headers).",
        "stripe": "Dashboard > Developers > Webhooks > Add endpoint: paste the URL, select "
        "the events your routes use; reveal the Signing secret whsec_... (Stripe-Signature).",
        "svix": "App Portal > Endpoints > Add Endpoint: paste the URL, pick event types; copy "
        "the Signing Secret (whsec_...).",
        "token": "Have the sender send one of secrets in the source's header (default "
        "Authorization, after prefix). HTTPS only: the body is not signed.",
        "twilio": "Console > Phone Numbers > your number (or Messaging Service): paste the URL "
        "in 'A message comes in' or a status callback, HTTP POST; public_url must be exactly "
        "this URL; the Auth Token signs X-Twilio-Signature.",
        "twitch": "Create an EventSub subscription (POST /eventsub/subscriptions): transport "
        "webhook, callback = this URL, secret = one of secrets (10-100 chars); the "
        "webhook_callback_verification challenge is answered.",
        "twitter": "Register the URL as an Account Activity API webhook, then subscribe users; "
        "the CRC check (GET ?crc_token=) is answered with the consumer secret (first of "
        "secrets).",
        "typeform": "Form > Connect > Webhooks > Add a webhook: paste the URL; Edit > Secret "
        "sets the secret (Typeform-Signature).",
        "vercel": "Team Settings > Webhooks > Create Webhook: paste the URL, pick events and "
        "projects; copy the secret shown once (x-vercel-signature).",
        "whatsapp": "App Dashboard > WhatsApp > Configuration: Callback URL = this URL, Verify "
        "token = the source's verify_token; subscribe to messages; the App Secret signs "
        "X-Hub-Signature-256.",
        "zoom": "Marketplace > your app > Features > Event Subscriptions: endpoint URL = this "
        "URL (endpoint.url_validation is answered), pick events; the Secret Token goes in "
        "secrets.",
    }
)


def hint(provider: str) -> str:
    """The setup hint for ``provider`` (empty for an unknown one)."""
    return HINTS.get(provider, "")

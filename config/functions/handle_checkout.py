"""Example function for a paid Stripe Checkout session (route stripe-checkout)."""


def run(
    session_id: str, customer_email: str | None = None, amount_total: int = 0, currency: str = ""
) -> dict[str, object]:
    return {
        "fulfilled": session_id,
        "email": customer_email,
        "amount": amount_total,
        "currency": currency,
    }

"""The vault a person who uses the practice sites would have: what evaluations with
`vault: true` give the agent, so a planner types placeholders, never the values."""

from __future__ import annotations

from operator_agent.permissions.vault import Vault

from .practice import PracticeSites
from .shop.state import DEMO_EMAIL, DEMO_PASSWORD

TEST_CARD = "4242 4242 4242 4242"  # Paylane's approving Visa (README.md here)


def practice_vault(sites: PracticeSites) -> Vault:
    """An in-memory vault: the demo account's password bound to the shop, the Visa test
    card bound to the payment processor's card form. The model only ever sees
    `{{secret:password}}`, `{{secret:card.number}}`..."""
    vault = Vault()
    vault.add_password("password", DEMO_PASSWORD, origins=[sites.shop_url],
                       description=f"the shop account {DEMO_EMAIL}")
    vault.add_card("card", number=TEST_CARD, exp_month=12, exp_year=34, cvc="123", holder="Alex Morgan",
                   origins=[sites.payments_url], description="Visa test card")
    return vault

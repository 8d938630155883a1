"""Varied sales at the till, for the demo, the chaos run and benchmarks: what a Danish shop rings up in a day.

`varied_sale` draws one sale from a client's open branches and catalogue with the caller's seeded random source,
as the body `baskets.sell` takes: one to four lines of different products (a variant where the product has any),
one to three of each, one line in five with a discount of a tenth of the line, one sale in four to a known
customer, paid in full by card, MobilePay or cash. With `returns`, one line in fifteen is a single item handed
back (quantity -1). Everything is whole øre, so `total` is exactly Σ quantity × selling_price − discount.
"""

from __future__ import annotations

import random

from crossdock_local.sims.shopbox.state import ClientState, Record

FIRST_NAMES = ("Mette", "Søren", "Anne", "Lars", "Signe", "Mads", "Freja", "Jens", "Ida", "Rasmus", "Åse", "Bjørn")
LAST_NAMES = ("Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Larsen", "Sørensen", "Østergaard", "Møller")
PAYMENT_TYPES = (("card", 7), ("mobilepay", 2), ("cash", 1))  # (type, weight): most Danish tills take cards


def varied_sale(rng: random.Random, client: ClientState, *, returns: bool = False) -> Record:
    """One sale's body for `baskets.sell`; ValueError when the client has no open till or nothing to sell."""
    tills = [
        (register["branch"], register["uid"])
        for register in client.registers.values()
        if not client.branches[register["branch"]]["is_closed"]
    ]
    if not tills or not client.products:
        raise ValueError("the client needs an open branch with a cash register and a product to sell")
    branch, register = rng.choice(sorted(tills))
    products = sorted(client.products)
    lines: list[Record] = []
    total = 0
    for uid in rng.sample(products, k=min(len(products), rng.randint(1, 4))):
        product = client.products[uid]
        variance = rng.choice(product["product_variances"]) if product["product_variances"] else None
        quantity = -1 if returns and rng.random() < 1 / 15 else rng.randint(1, 3)
        price = (variance or product)["selling_price"]
        discount = abs(quantity) * price // 10 if quantity > 0 and rng.random() < 0.2 else 0
        line: Record = {"product": uid, "quantity": quantity, "discount": discount}
        if variance is not None:
            line["product_variance"] = variance["uid"]
        lines.append(line)
        total += quantity * price - discount
    customer = None
    if rng.random() < 0.25:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        customer = {"name": f"{first} {last}", "email": f"{first}.{last}@example.dk".lower()}
    payment = rng.choices([kind for kind, _ in PAYMENT_TYPES], weights=[w for _, w in PAYMENT_TYPES])[0]
    return {
        "branch": branch,
        "cash_register": register,
        "lines": lines,
        "customer": customer,
        "payments": [{"payment_type": payment, "amount": total}],
    }

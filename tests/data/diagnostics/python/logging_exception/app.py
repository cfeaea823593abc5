import logging

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
log = logging.getLogger("orders")


def price(order: dict) -> float:
    return order["qty"] * order["unit_price"]


def process(orders: list[dict]) -> None:
    for order in orders:
        try:
            log.info("processing order %s", order.get("id"))
            log.info("total %.2f", price(order))
        except Exception:
            log.exception("failed to process order %s", order.get("id"))
    log.info("error count reset; connecting to db:5432 for the File sync")


process([{"id": 1, "qty": 2, "unit_price": 3.5}, {"id": 2, "qty": 1}, {"id": 3, "qty": 1, "unit_price": 2}])

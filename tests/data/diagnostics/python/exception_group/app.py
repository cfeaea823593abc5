import asyncio


async def fetch(n: int) -> int:
    await asyncio.sleep(0)
    if n == 2:
        raise ValueError(f"bad item {n}")
    return n


async def main() -> None:
    async with asyncio.TaskGroup() as tg:
        for n in range(3):
            tg.create_task(fetch(n))


asyncio.run(main())

"""The engine: one asyncio loop that owns the state; runtimes do I/O and report back as actions."""

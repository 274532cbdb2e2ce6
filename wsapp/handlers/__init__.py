"""Lambda entry points named by template.yaml. Nothing here imports the emulator or aiohttp."""

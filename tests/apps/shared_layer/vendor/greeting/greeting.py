"""The shared_layer app's dependency: installed from requirements.txt, as sam build installs it."""


def greet(name: str) -> str:
    return f"Hello, {name}!"

"""Built-in tools, one small module each with `build(settings) -> list[Tool]`."""

"""`N_` marks a message id for translation without translating it yet (Babel extracts it)."""


def N_(message: str) -> str:
    return message

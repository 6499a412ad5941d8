# Brotli 1.x (brotli.py over the _brotli extension): the functions feedsvc and its tests call.

MODE_GENERIC: int
MODE_TEXT: int
MODE_FONT: int

class error(Exception): ...

def compress(
    string: bytes, mode: int = ..., quality: int = 11, lgwin: int = 22, lgblock: int = 0
) -> bytes: ...
def decompress(string: bytes) -> bytes: ...

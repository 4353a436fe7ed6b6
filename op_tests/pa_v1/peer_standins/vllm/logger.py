"""Stand-in for ``vllm.logger`` (aiter_swa benchmark): ``init_logger`` with the ``*_once`` methods."""
import functools
import logging


class _Logger(logging.LoggerAdapter):
    @functools.lru_cache(maxsize=None)  # noqa: B019  (once per message, like vLLM's)
    def debug_once(self, msg, *args):
        self.debug(msg, *args)

    @functools.lru_cache(maxsize=None)  # noqa: B019
    def info_once(self, msg, *args):
        self.info(msg, *args)

    @functools.lru_cache(maxsize=None)  # noqa: B019
    def warning_once(self, msg, *args):
        self.warning(msg, *args)


def init_logger(name: str) -> _Logger:
    return _Logger(logging.getLogger(name), {})

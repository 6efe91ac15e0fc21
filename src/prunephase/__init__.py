"""prunephase: the statistical physics of neural-network pruning, reproduced end to end."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("prunephase")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.1.0+unknown"

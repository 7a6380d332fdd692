"""pbshare — personal-bankruptcy information-sharing platform."""

__version__ = "0.1.0"

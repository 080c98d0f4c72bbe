"""直播中控台: the live-host console for segmented private-domain live commerce."""

__version__ = "0.1.0"

"""The simulated PIV card, its JSON card profiles, the SITHS-like test PKI and the vpcd bridge.

Functions the app's CLI calls: `make_profile`, `save_profile`, `load_profile`, `run_vpcd_bridge`.
"""

from hardware.simulator.card import SimulatedPivCard
from hardware.simulator.profile import CardProfile, SlotProfile, load_profile, make_atr, save_profile
from hardware.simulator.testpki import KEY_TYPES, TestPki, make_profile
from hardware.simulator.vpcd import VpcdBridge, run_vpcd_bridge

__all__ = [
    "KEY_TYPES",
    "CardProfile",
    "SimulatedPivCard",
    "SlotProfile",
    "TestPki",
    "VpcdBridge",
    "load_profile",
    "make_atr",
    "make_profile",
    "run_vpcd_bridge",
    "save_profile",
]

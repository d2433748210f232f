"""The runtime every algorithm runs on: programs, contexts, channels, the simulator."""

"""The compiled model: plain numbers, arrays and named dataclasses the engine runs on."""

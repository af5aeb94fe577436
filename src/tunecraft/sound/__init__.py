"""Sound tools: procedural effects and ambiences, source separation, noise reduction and
layered mixes (``tunecraft sound``, ``separate``, ``denoise``, ``mix``)."""

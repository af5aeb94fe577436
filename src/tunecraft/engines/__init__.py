"""Optional neural engines (``pip install 'tunecraft[neural]'``): MusicGen and MusicGen-melody
from a local folder of weights, steered by the composed score. See :mod:`.musicgen`."""
